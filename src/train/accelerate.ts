/**
 * accelerate config files (the YAML `accelerate config` writes), in the shape of TRL's
 * examples/accelerate_configs: one GPU, several GPUs with DDP, DeepSpeed ZeRO-2 / ZeRO-3, and
 * ZeRO-3 across machines.
 */
export type AccelerateMode = "single" | "multi-gpu" | "zero2" | "zero3" | "multi-node";
export const ACCELERATE_MODES: readonly AccelerateMode[] = ["single", "multi-gpu", "zero2", "zero3", "multi-node"];

export interface AccelerateOptions {
  mode: AccelerateMode;
  /** Processes (GPUs) in total over all machines. */
  numProcesses: number;
  mixedPrecision: "no" | "fp16" | "bf16";
  /** multi-node only. */
  numMachines?: number;
  mainProcessIp?: string;
  mainProcessPort?: number;
}

export function needsDeepSpeed(mode: AccelerateMode): boolean {
  return mode === "zero2" || mode === "zero3" || mode === "multi-node";
}

/** The YAML text, with a comment on what each mode does and what to change. */
export function accelerateYaml(options: AccelerateOptions): string {
  const { mode } = options;
  if (mode === "single" && options.numProcesses !== 1) throw new Error("--accelerate single runs one process; use multi-gpu for more");
  if (mode === "multi-node") {
    if (!options.mainProcessIp) throw new Error("--accelerate multi-node needs --main-process-ip <address of machine 0>");
    if ((options.numMachines ?? 2) < 2) throw new Error("--accelerate multi-node needs --num-machines 2 or more");
  }
  const lines: string[] = [];
  const header: Record<AccelerateMode, string> = {
    single: "One process on one GPU.",
    "multi-gpu": `Data parallel (DDP) over ${options.numProcesses} GPUs of this machine.`,
    zero2: `DeepSpeed ZeRO stage 2 over ${options.numProcesses} GPUs: optimizer states and gradients are sharded.`,
    zero3: `DeepSpeed ZeRO stage 3 over ${options.numProcesses} GPUs: parameters are sharded too (models that do not fit one GPU).`,
    "multi-node":
      `DeepSpeed ZeRO stage 3 over ${options.numMachines ?? 2} machines, ${options.numProcesses} processes in all. ` +
      "Run launch.sh on every machine with MACHINE_RANK=0 on the main one, 1, 2, ... on the others.",
  };
  lines.push("# accelerate config written by `critic train` (same fields as `accelerate config` writes).");
  lines.push(`# ${header[mode]}`);
  if (needsDeepSpeed(mode)) lines.push("# Needs `pip install deepspeed` (check with `critic train doctor`).");
  lines.push("compute_environment: LOCAL_MACHINE", "debug: false");
  if (needsDeepSpeed(mode)) {
    const stage = mode === "zero2" ? 2 : 3;
    lines.push("deepspeed_config:");
    lines.push("  deepspeed_multinode_launcher: standard");
    lines.push("  offload_optimizer_device: none  # cpu or nvme to offload optimizer states");
    lines.push("  offload_param_device: none  # cpu or nvme to offload parameters (stage 3)");
    if (stage === 3) {
      lines.push("  zero3_init_flag: true");
      lines.push("  zero3_save_16bit_model: true  # save a consolidated 16-bit model, ready for conversion to GGUF");
    } else {
      lines.push("  zero3_init_flag: false");
    }
    lines.push(`  zero_stage: ${stage}`);
    lines.push("distributed_type: DEEPSPEED");
  } else {
    lines.push(`distributed_type: ${mode === "single" ? "'NO'" : "MULTI_GPU"}`);
  }
  lines.push("downcast_bf16: 'no'");
  if (!needsDeepSpeed(mode)) lines.push("gpu_ids: all");
  lines.push(`machine_rank: 0${mode === "multi-node" ? "  # overridden by launch.sh from MACHINE_RANK" : ""}`);
  if (mode === "multi-node") {
    lines.push(`main_process_ip: ${options.mainProcessIp}`);
    lines.push(`main_process_port: ${options.mainProcessPort ?? 29500}`);
  }
  lines.push("main_training_function: main");
  lines.push(`mixed_precision: '${options.mixedPrecision}'`);
  lines.push(`num_machines: ${mode === "multi-node" ? options.numMachines ?? 2 : 1}`);
  lines.push(`num_processes: ${options.numProcesses}  # processes over all machines`);
  lines.push(`rdzv_backend: ${mode === "multi-node" ? "c10d" : "static"}`);
  lines.push("same_network: true");
  lines.push("tpu_env: []", "tpu_use_cluster: false", "tpu_use_sudo: false", "use_cpu: false");
  return `${lines.join("\n")}\n`;
}
