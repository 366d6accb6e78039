export * from "./contracts/index.js";
export { HordeError } from "./errors.js";
