// The error catalogue: every code horde's own packages throw, each with what it means. One table,
// one union (`HordeErrorCode`); `defineError(code)` makes the class for a code and CONTRIBUTING.md's
// error table is generated from here (`node core/scripts/error-table.mjs`; a test keeps them equal).
// Wire values (ComputeHorde's `UnauthorizedError` codes, failure reasons, the facilitator API's
// `code`, the chain's own error names) are not here: they are the protocol's, not ours.

export const ERROR_CATALOGUE = {
  /** core/src/miner/errors.ts */
  HORDE_ALL_EXECUTORS_BUSY: 'Every executor of the class is taken: the job is declined with reason `busy`.',
  /** core/src/validator/errors.ts */
  HORDE_BATCH_ABORTED: 'A batch (or a job of it) was stopped because the validator is shutting down; its outcomes are not stored.',
  /** core/src/chain/errors.ts */
  HORDE_CHAIN_CONFIG: 'The chain configuration (network name, local chain state) is unusable.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_BAD_INPUT: 'A collateral setting or argument is unusable (address, key, amount, missing key file).',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_CONTRACT_MISSING: 'No collateral contract code at the configured address on that chain.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_NO_ASSOCIATIONS: 'The chain client cannot resolve hotkeys to EVM addresses.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_NO_EVM_ADDRESS: 'The miner has no EVM key associated with its hotkey on the subnet.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_NOT_TRUSTEE: "The validator's EVM key is not the collateral contract's trustee: its slashes would be refused.",
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_REASON_URL: 'The slash reason is an http(s) URL whose content could not be fetched for its checksum.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_REVERTED:
    'The collateral contract refused the call; `revert` names its custom error (`NotTrustee`, `InsufficientAmount`, …).',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_RPC_ERROR: 'The EVM node answered something the collateral client did not expect.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_RPC_UNREACHABLE: 'The EVM RPC could not be reached or did not answer in time.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_TX_FAILED: 'A collateral transaction was mined but failed.',
  /** core/src/collateral/errors.ts */
  HORDE_COLLATERAL_WRONG_CHAIN: 'The EVM RPC serves another chain than the configured `chainId` (wrong URL, testnet vs mainnet).',
  /** core/src/config/errors.ts */
  HORDE_CONFIG_INVALID: 'The config file parsed but a value is wrong (or a key unknown).',
  /** core/src/config/errors.ts */
  HORDE_CONFIG_LOAD_FAILED: 'The config file could not be read, parsed or compiled (YAML/JSON syntax, a TS/JS config that throws).',
  /** core/src/config/errors.ts */
  HORDE_CONFIG_NOT_FOUND: '`--config`/`HORDE_CONFIG` names a file that does not exist.',
  /** core/src/keys/errors.ts */
  HORDE_CRYPTO_NOT_READY: 'sr25519 verification was used before `cryptoReady()` resolved, or the wasm module failed to initialise.',
  /** core/src/dashboard/errors.ts */
  HORDE_DASHBOARD_LISTEN_FAILED: 'The dashboard could not listen on its host and port (in use, not an address of this machine).',
  /** core/src/devnet/errors.ts */
  HORDE_DEVNET_BAD_OPTIONS: 'A devnet flag is wrong; nothing has been started.',
  /** core/src/devnet/errors.ts */
  HORDE_DEVNET_INTERRUPTED: 'The run was stopped by SIGINT/SIGTERM.',
  /** core/src/devnet/errors.ts */
  HORDE_DEVNET_PREFLIGHT_FAILED: 'Something the devnet needs is not there (Docker engine, job image, PostgreSQL, plugin scripts).',
  /** core/src/devnet/errors.ts */
  HORDE_DEVNET_RUN_FAILED: "One of the devnet's processes failed, or the run did not finish in time.",
  /** core/src/executor/volumes.ts */
  HORDE_DOWNLOAD_FAILED: 'The volume could not be fetched or unpacked; the job fails with `download_failed`.',
  /** core/src/net/egress.ts */
  HORDE_EGRESS_CONFIG: "The policy's settings were wrong (an allowlist entry that is not a CIDR or an address).",
  /** core/src/net/egress.ts */
  HORDE_EGRESS_REFUSED: 'A URL the egress policy does not let the executor reach.',
  /** core/src/executor/agent/miner-channel.ts */
  HORDE_EXECUTOR_MINER_CONNECTION_FAILED: 'The executor agent could not reach its miner, lost the connection, or had its token refused.',
  /** core/src/miner/errors.ts */
  HORDE_EXECUTOR_START_TIMEOUT: 'The executor manager did not start an executor within its spin-up time plus the startup limit.',
  /** core/src/miner/errors.ts */
  HORDE_EXECUTOR_UNAVAILABLE: 'A slot was reserved but the executor manager could not start an executor (`executor_spinup_failed`).',
  /** core/src/facilitator/workers/errors.ts */
  HORDE_FACILITATOR_WORKERS_NEED_POSTGRES: 'Facilitator workers share a PostgreSQL store; the config names SQLite.',
  /** core/src/facilitator/workers/errors.ts */
  HORDE_FACILITATOR_WORKERS_SESSION_LOST:
    "A facilitator worker lost its own PostgreSQL session (its claims' id and its announcements); it stops.",
  /** core/src/executor/runners/errors.ts */
  HORDE_GPU_UNAVAILABLE: 'The job asked for GPUs (preset `nvidia_all`) and this engine cannot provide them.',
  /** plugins/hardware-classes/src/index.ts */
  HORDE_HARDWARE_CLASS_UNKNOWN: 'A hardware class id that the hardware-classes plugin does not ship.',
  /** core/src/keys/errors.ts */
  HORDE_HOTKEY_LOAD_FAILED: 'A hotkey could not be loaded: bad URI or mnemonic, missing or unreadable wallet file.',
  /** core/src/executor/runners/errors.ts */
  HORDE_IMAGE_NOT_FOUND: "The job's image cannot be made available (not local, and the pull failed or is impossible).",
  /** core/src/chain/errors.ts */
  HORDE_INVALID_ADDRESS: 'Text that should be an ss58 address is not one.',
  /** core/src/chain/errors.ts */
  HORDE_INVALID_COMMITMENT: 'The knowledge commitment (manifest) cannot be encoded or is too long.',
  /** core/src/chain/ip.ts */
  HORDE_INVALID_IP: 'Text that should be an IP address (axon, external address) is not one.',
  /** core/src/protocol/receipts.ts */
  HORDE_INVALID_RECEIPT_PAYLOAD: 'A receipt payload that cannot be turned into the signed bytes, or whose timestamp cannot be read.',
  /** core/src/chain/errors.ts */
  HORDE_INVALID_WEIGHTS: 'The weights handed to the adapter cannot be put on chain (negative, NaN, uid out of range…).',
  /** core/src/executor/agent/failures.ts */
  HORDE_JOB_FAILED: "The job's own fault (ComputeHorde's `JobError`); reported as `V0JobFailedRequest`.",
  /** core/src/executor/agent/failures.ts */
  HORDE_JOB_HORDE_FAILED: "The network's fault, not the job's (ComputeHorde's `HordeError`); reported as `V0HordeFailedRequest`.",
  /** core/src/executor/runners/errors.ts */
  HORDE_JOB_RUNNER_FAILED: 'The runner itself failed (engine unreachable, container could not be created or started).',
  /** plugins/job-llm-prompts/src/generator.ts */
  HORDE_LLM_PROMPTS_UNAVAILABLE: 'The generator cannot make jobs this cycle (no trusted miner, ground truth failed).',
  /** plugins/job-llm-prompts/src/stand-in-guard.ts */
  HORDE_LLM_STAND_IN_OUTSIDE_DEVNET: 'A validator config that would pay a GPU class for stand-in answers, which any CPU produces.',
  /** executor-managers/local/src/errors.ts */
  HORDE_LOCAL_EXECUTOR_START_REFUSED:
    'The local manager refused to start an executor (a class it does not run, no free executor, an empty command line).',
  /** core/src/executor/machine-specs.ts */
  HORDE_MACHINE_SPECS_UNREADABLE: 'The machine specs could not be read (/proc/meminfo, /etc/os-release without the expected fields).',
  /** core/src/miner/errors.ts */
  HORDE_MINER_CONFIG_INVALID: 'Miner settings that cannot work together (found at start, before anything listens).',
  /** core/src/validator/errors.ts */
  HORDE_MINER_CONNECTION_FAILED: 'The validator could not reach a miner, was refused, or got nothing usable in time.',
  /** core/src/validator/errors.ts */
  HORDE_MINER_PROTOCOL_VIOLATION:
    'A miner broke the protocol for one job (e.g. flooded its message queue); the job ends as a horde failure.',
  /** core/src/validator/errors.ts */
  HORDE_MINER_TIMEOUT: "A wait for a miner's message ran out of time.",
  /** core/src/objectstore/s3.ts */
  HORDE_OBJECT_NOT_FOUND: '`get()` of a key that does not exist.',
  /** core/src/objectstore/s3.ts */
  HORDE_OBJECT_STORE_FAILED: 'Any other failure of the object store (credentials, network, a missing bucket).',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_API_MISMATCH: "The plugin's `apiRange` does not include this core's `PLUGIN_API_VERSION`.",
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_CONFIG_INVALID: "The plugin's config section does not pass its `configSchema`.",
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_CONFLICT: 'Two plugins (or one twice) provide a contract a process can have only one of.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_DEPENDENCY_MISSING:
    "A provider's declared `deps` names a contract that nothing in the process provides (checked before the store and chain open).",
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_DUPLICATE: 'The same plugin is listed twice.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_FACTORY_FAILED: 'A `useFactory` threw while building the implementation.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_IMPORT_FAILED: 'The module was found but importing it threw.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_INVALID: "The module's default export is not a plugin made by `definePlugin`, or a field of it is wrong.",
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_NOT_BUILT: 'The name points at TypeScript source that Node cannot import: build the plugin and name its `dist/index.js`.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_NOT_FOUND: 'The name in `plugins` is no installed package and no file.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_REGISTER_FAILED: "The plugin's `register` threw.",
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_RESOLVE_FAILED: '`ctx.resolve` asked for something nobody registered.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_TOKEN_NOT_ALLOWED: 'The plugin provides a token it may not provide, or did not declare in `provides`.',
  /** core/src/plugin/errors.ts */
  HORDE_PLUGIN_VALIDATE_FAILED: "The plugin's `validate` found problems (or threw).",
  /** core/src/miner/errors.ts */
  HORDE_POOL_CHANGED:
    "The class's executor slots changed between a capacity decision and its reservation; the miner decides again (internal, never sent).",
  /** core/src/validator/receipts/errors.ts */
  HORDE_RECEIPT_LINE_REFUSED: 'A line of a receipt page was refused (logged and counted; one bad line costs only itself).',
  /** core/src/validator/receipts/errors.ts */
  HORDE_RECEIPT_PAGE_FETCH_FAILED: 'A receipt page could not be read to its end (HTTP error, timeout, too many bytes, broken gzip).',
  /** libs/ssh-launcher/src/errors.ts */
  HORDE_SSH_AUTH_FAILED: 'The server refused our key (not in authorized_keys, wrong user, wrong passphrase).',
  /** libs/ssh-launcher/src/errors.ts */
  HORDE_SSH_CONNECT_FAILED: 'The SSH connection could not be opened (DNS, refused, timeout) or broke while starting.',
  /** libs/ssh-launcher/src/errors.ts */
  HORDE_SSH_HOST_KEY_REJECTED: "The server's host key is not the one configured: possibly another machine in the middle.",
  /** libs/ssh-launcher/src/errors.ts */
  HORDE_SSH_KEY_UNREADABLE: 'The private key file could not be read.',
  /** libs/ssh-launcher/src/errors.ts */
  HORDE_SSH_LAUNCH_FAILED: 'Connected, but the remote wrapper did not start the agent.',
  /** executor-managers/ssh/src/errors.ts */
  HORDE_SSH_NO_FREE_HOST: 'No host of the requested class is free, or the class is not configured.',
  /** core/src/executor/agent/failures.ts */
  HORDE_STAGE_TIMEOUT: "A job stage ran past its deadline; the driver turns it into the stage's failure.",
  /** core/src/executor/startup-checks/types.ts */
  HORDE_STARTUP_CHECK_FAILED: 'A startup check said no; the job is reported as a horde failure with reason `security_check_failed`.',
  /** core/src/executor/startup-checks/types.ts */
  HORDE_STARTUP_CHECK_SETUP: 'Startup checks were set up wrongly (the docker checks with a runner that is not the Docker one).',
  /** core/src/testkit/errors.ts */
  HORDE_TESTKIT_CONTRACT_SETUP: 'A plugin under test cannot be put through a contract suite at all (e.g. a manifest with no executor).',
  /** core/src/testkit/errors.ts */
  HORDE_TESTKIT_CONTRACT_TIMEOUT:
    "A contract suite's expectation was not met in time (a manager that never started, a program that never connected).",
  /** core/src/chain/timelock/errors.ts */
  HORDE_TIMELOCK:
    'A timelock ciphertext, pulse or payload that cannot be used; `reason` says which (malformed ciphertext or signature, wrong pulse, bad payload).',
  /** core/src/validator/trusted-miner.ts */
  HORDE_TRUSTED_MINER_FAILED: 'A job on the trusted miner did not produce a result.',
  /** core/src/executor/uploads.ts */
  HORDE_UPLOAD_FAILED: 'The outputs could not be uploaded; the job fails with `upload_failed`.',
  /** core/src/validator/errors.ts */
  HORDE_VALIDATOR_CONFIG: 'The validator could not be started or configured (missing plugins, bad config).',
  /** core/src/validator/errors.ts */
  HORDE_VALIDATOR_JOB_AMBIGUOUS: "A job prefix (`horde validator jobs <uuid>`, the dashboard's job page) names more than one job.",
  /** core/src/validator/errors.ts */
  HORDE_VALIDATOR_JOB_NOT_FOUND: 'No stored job has the uuid (or prefix) asked for.',
  /** core/src/validator/workers/errors.ts */
  HORDE_VALIDATOR_WORKERS_NEED_POSTGRES: 'Validator workers share a PostgreSQL store; the config names SQLite.',
  /** core/src/validator/workers/errors.ts */
  HORDE_VALIDATOR_WORKERS_QUEUE: 'The pg-boss task queue of the validator workers did not start.',
  /** core/src/validator/workers/errors.ts */
  HORDE_VALIDATOR_WORKERS_SESSION_LOST: 'A worker lost its PostgreSQL session, and with it any leadership; it stops.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_API_ERROR: 'The marketplace API answered with an error (HTTP 4xx/5xx or `success: false`), or not at all.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_AUTH_FAILED: 'The marketplace refused the API key (HTTP 401/403); retrying cannot help.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_BUDGET_EXCEEDED: 'Renting would go over `budget.maxDollarsPerHour` or `budget.maxDollarsPerDay`: nothing was rented.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_CAPACITY: 'The class is not configured, or all of its `maxInstances` are in use.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_CLOSED: 'The manager is shutting down and starts nothing new.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_INSTANCE_GONE: 'A rented instance disappeared from the account (destroyed elsewhere, host failure).',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_NO_OFFER: "No offer on the marketplace matches the class's filters.",
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_RATE_LIMITED: 'The marketplace still answered HTTP 429 after every retry.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_READY_TIMEOUT: 'A rented instance did not become reachable over SSH in time; it has been destroyed.',
  /** executor-managers/vast/src/errors.ts */
  HORDE_VAST_RENT_FAILED: 'Matching offers existed, but renting every one tried failed (taken meanwhile, refused).',
  /** core/src/config/wallet.ts */
  HORDE_WALLET_FILE_INVALID: 'A wallet hotkey file is not a bittensor keyfile.',
  /** core/src/config/wallet.ts */
  HORDE_WALLET_FILE_NOT_FOUND: 'A wallet hotkey file does not exist.',
  /** core/src/validator/errors.ts */
  HORDE_WEIGHT_SETTING_FAILED: 'Weights could not be put on chain after every attempt.',
} as const satisfies Record<`HORDE_${string}`, string>;

/** Every code in the catalogue. */
export type HordeErrorCode = keyof typeof ERROR_CATALOGUE;
