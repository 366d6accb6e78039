// The facilitator role: the organic-job gateway between clients (SDK, HTTP) and validators (ws).
export { ApiError, type ApiErrorCode } from './errors.js';
export { startFacilitator, type StartFacilitatorOptions, type FacilitatorProcess } from './from-config.js';
export {
  createJobBodySchema,
  cheatReportBodySchema,
  displayStatus,
  jobResponse,
  type CreateJobBody,
  type JobResponse,
} from './job-model.js';
export { createFacilitator, type FacilitatorHandle, type FacilitatorDeps } from './server.js';
export { FacilitatorStore } from './store.js';
export { issueToken, verifyToken, type TokenClaims } from './tokens.js';
export { CLOSE_INVALID_SIGNATURE, CLOSE_NOT_A_VALIDATOR, CLOSE_POLICY, ValidatorHub, type ConnectedValidator } from './validator-hub.js';
