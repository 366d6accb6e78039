// tsyringe throws at import unless a Reflect metadata polyfill is loaded first; every module that
// needs tsyringe imports it through this file (module requests evaluate in source order).
import 'reflect-metadata';

export { container, inject, injectable, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
