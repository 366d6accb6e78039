import type { HardwareClass } from '@horde/core';

/** Job generators that prove a class (names of the shipped job-generator plugins' generators). */
const HASH_CRACK = 'hash-crack';
const LLM_PROMPTS = 'llm-prompts';
const GPU_MATMUL = 'gpu-matmul';

/**
 * ComputeHorde's GPU hash-cracking job is sized to take an honest executor at most 53 seconds;
 * its LLM prompt job (240 prompts, 256 tokens each) 150 seconds.
 */
const HASH_CRACK_SECONDS = 53;
const LLM_PROMPTS_SECONDS = 150;

/**
 * The 24 GB cards a `gpu-24gb` class accepts. The hash-crack job is sized for the slowest of them
 * (see @horde/plugin-job-hash-crack's rate table), so every one of them passes it.
 */
const GPU_24GB_MODELS = ['RTX 3090', 'RTX 4090', 'RTX A5000', 'A10', 'L4'] as const;

/**
 * ComputeHorde's executor classes (ids, spin-up times, resources and manifest short codes as in
 * `compute_horde/executor_class.py` and `manifest_utils.py`), then two classes for current
 * datacenter GPUs. The default class of ComputeHorde is the first one, `spin_up-4min.gpu-24gb`.
 */
export const HARDWARE_CLASSES: readonly HardwareClass[] = [
  {
    id: 'spin_up-4min.gpu-24gb',
    description: 'GPU with 24 GB VRAM, started on demand (up to 4 minutes); the cost-effective default',
    spinUpSeconds: 240,
    shortCode: 'S',
    resources: { gpu: { count: 1, vramGb: 24, models: GPU_24GB_MODELS } },
    dockerPreset: 'nvidia_all',
    proof: { jobGenerators: [HASH_CRACK], maxJobSeconds: HASH_CRACK_SECONDS },
  },
  {
    id: 'always_on.gpu-24gb',
    description: 'Always-on GPU with 24 GB VRAM',
    spinUpSeconds: 3,
    shortCode: 'A',
    resources: { gpu: { count: 1, vramGb: 24, models: GPU_24GB_MODELS } },
    dockerPreset: 'nvidia_all',
    proof: { jobGenerators: [HASH_CRACK], maxJobSeconds: HASH_CRACK_SECONDS },
  },
  {
    id: 'always_on.llm.a6000',
    description: 'Always-on NVIDIA RTX A6000 (48 GB VRAM) for LLM inference',
    spinUpSeconds: 30,
    shortCode: 'L',
    resources: {
      gpu: {
        count: 1,
        vramGb: 48,
        model: 'NVIDIA RTX A6000',
        models: ['RTX A6000'],
        minComputeCapability: '8.6',
        minDriverVersion: '525.60.13',
      },
    },
    dockerPreset: 'nvidia_all',
    // The real prompt solver's model needs the 48 GB; hash-crack then proves a GPU of the A6000's speed.
    proof: { jobGenerators: [LLM_PROMPTS, HASH_CRACK, GPU_MATMUL], maxJobSeconds: LLM_PROMPTS_SECONDS },
  },
  {
    id: 'always_on.test',
    description: 'Always-on machine without a GPU, for testing a subnet',
    spinUpSeconds: 3,
    shortCode: 'T',
    resources: {},
    dockerPreset: 'none',
    proof: { jobGenerators: [HASH_CRACK], maxJobSeconds: HASH_CRACK_SECONDS },
  },
  {
    id: 'always_on.cpu.8c.16gb',
    description: 'Always-on CPU-only machine with 8 cores and 16 GB RAM',
    spinUpSeconds: 30,
    shortCode: 'C',
    resources: { cpuCores: 8, ramGb: 16 },
    dockerPreset: 'none',
    proof: { jobGenerators: [HASH_CRACK], maxJobSeconds: HASH_CRACK_SECONDS },
  },
  {
    // Not a ComputeHorde class. Spin-up as for the A6000 class: the machine is on, only the agent starts.
    id: 'always_on.gpu.a100-80gb',
    description: 'Always-on NVIDIA A100 with 80 GB VRAM',
    spinUpSeconds: 30,
    shortCode: 'D',
    resources: {
      gpu: {
        count: 1,
        vramGb: 80,
        model: 'NVIDIA A100 80GB',
        models: ['A100'],
        minComputeCapability: '8.0',
        minDriverVersion: '525.60.13',
      },
    },
    dockerPreset: 'nvidia_all',
    // Hash-crack proves a GPU of the A100's speed (not its 80 GB: the spec cross-check does);
    // the matrix proof is the alternative where hash-crack is not loaded.
    proof: { jobGenerators: [HASH_CRACK, GPU_MATMUL], maxJobSeconds: LLM_PROMPTS_SECONDS },
  },
  {
    id: 'always_on.gpu.h100-80gb',
    description: 'Always-on NVIDIA H100 with 80 GB VRAM',
    spinUpSeconds: 30,
    shortCode: 'H',
    resources: {
      gpu: {
        count: 1,
        vramGb: 80,
        model: 'NVIDIA H100 80GB',
        models: ['H100'],
        minComputeCapability: '9.0',
        minDriverVersion: '535.54.03',
      },
    },
    dockerPreset: 'nvidia_all',
    // Hash-crack is sized for the H100's rate, which an A100 does not reach (see job-hash-crack's README).
    proof: { jobGenerators: [HASH_CRACK, GPU_MATMUL], maxJobSeconds: LLM_PROMPTS_SECONDS },
  },
];

/** Class ids in table order. */
export const HARDWARE_CLASS_IDS: readonly string[] = HARDWARE_CLASSES.map((hardwareClass) => hardwareClass.id);
