// The validator's organic path: jobs from a facilitator, routed to miners.
export { FacilitatorClient, type FacilitatorClientEvents, type FacilitatorClientOptions } from './facilitator-client.js';
export { executorSeconds, organicJobSpec, runOrganicJob, type OrganicJobEnd, type StatusUpdate } from './organic-job.js';
export { OrganicService, type OrganicEvents, type OrganicJobOutcome, type OrganicServiceDeps } from './organic-service.js';
export { MinerRouter } from './routing.js';
export { OrganicStore, type BlacklistReason, type OrganicJobRow } from './store.js';
