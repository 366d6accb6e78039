// Throws while its module is evaluated.
throw new Error('boom at import');
