/**
 * `critic train doctor`: what a machine has for training with TRL (python, torch, transformers,
 * trl, accelerate, datasets, peft, deepspeed, bitsandbytes, GPUs) and the exact commands that
 * install what is missing.
 */
import { execFile } from "node:child_process";
import { loadTrlFields } from "./fields.js";

export interface PackageCheck {
  name: string;
  version: string | null;
  /** Needed for every run (torch, transformers, trl, accelerate, datasets) or only some. */
  required: boolean;
  neededFor: string;
  error?: string;
}

export interface GpuInfo {
  name: string;
  memoryMiB?: number;
}

export interface DoctorReport {
  python: { executable: string; version: string | null; ok: boolean; error?: string };
  packages: PackageCheck[];
  gpus: GpuInfo[];
  gpuSource: "nvidia-smi" | "torch" | null;
  cudaAvailable: boolean | null;
  /** Problems, each with the command that fixes it. */
  problems: string[];
  ok: boolean;
}

export interface DoctorOptions {
  /** Python to check (default: $CRITIC_PYTHON or python3). */
  python?: string;
  /** nvidia-smi to ask (default nvidia-smi). */
  nvidiaSmi?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const PACKAGES: Array<{ module: string; pip: string; required: boolean; neededFor: string }> = [
  { module: "torch", pip: "torch", required: true, neededFor: "every run" },
  { module: "transformers", pip: "transformers", required: true, neededFor: "every run" },
  { module: "trl", pip: "trl", required: true, neededFor: "every run" },
  { module: "accelerate", pip: "accelerate", required: true, neededFor: "launch.sh (accelerate launch)" },
  { module: "datasets", pip: "datasets", required: true, neededFor: "loading the export" },
  { module: "yaml", pip: "pyyaml", required: true, neededFor: "train.py reads config.yaml" },
  { module: "peft", pip: "peft", required: false, neededFor: "LoRA (--preset lora, dsc-sft, use_peft)" },
  { module: "deepspeed", pip: "deepspeed", required: false, neededFor: "--accelerate zero2, zero3, multi-node" },
  { module: "bitsandbytes", pip: "bitsandbytes", required: false, neededFor: "4/8-bit loading (load_in_4bit, --preset lora, dsc-sft) and the bitsandbytes optimizers (optim: paged_adamw_32bit in --preset criticon-full and lora, adamw_bnb_8bit, …)" },
];

/** Prints one JSON object: python version, each module's version or import error, CUDA devices. */
const PROBE = `
import json, sys, importlib
out = {"python": sys.version.split()[0], "modules": {}, "cuda": None, "devices": []}
for name in ${JSON.stringify(PACKAGES.map((p) => p.module))}:
    try:
        m = importlib.import_module(name)
        out["modules"][name] = {"version": str(getattr(m, "__version__", "unknown"))}
    except Exception as e:
        out["modules"][name] = {"error": type(e).__name__ + ": " + str(e)}
try:
    import torch
    out["cuda"] = bool(torch.cuda.is_available())
    if out["cuda"]:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            out["devices"].append({"name": p.name, "memoryMiB": int(p.total_memory // 1048576)})
except Exception:
    pass
print(json.dumps(out))
`;

interface Probe {
  python: string;
  modules: Record<string, { version?: string; error?: string }>;
  cuda: boolean | null;
  devices: GpuInfo[];
}

const MIN_PYTHON = [3, 10];

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const python = options.python ?? env.CRITIC_PYTHON ?? "python3";
  const timeout = options.timeoutMs ?? 60_000;
  const trl = loadTrlFields().trl;
  const problems: string[] = [];

  let probe: Probe | undefined;
  let pythonError: string | undefined;
  try {
    const { stdout } = await run(python, ["-c", PROBE], env, timeout);
    const line = stdout.trim().split("\n").pop() ?? "";
    probe = JSON.parse(line) as Probe;
  } catch (error) {
    pythonError = (error as Error).message;
  }

  const pythonOk = probe !== undefined && versionAtLeast(probe.python, MIN_PYTHON);
  if (!probe) {
    problems.push(`${python} did not run (${pythonError}); install Python ${MIN_PYTHON.join(".")}+ (e.g. \`apt-get install python3 python3-pip python3-venv\`) or point CRITIC_PYTHON at one`);
  } else if (!pythonOk) {
    problems.push(`${python} is Python ${probe.python}; TRL ${trl} needs Python ${MIN_PYTHON.join(".")} or newer`);
  }

  const packages: PackageCheck[] = PACKAGES.map((p) => {
    const info = probe?.modules[p.module];
    const check: PackageCheck = { name: p.pip, version: info?.version ?? null, required: p.required, neededFor: p.neededFor };
    if (info?.error) check.error = info.error;
    return check;
  });
  if (probe) {
    const missingRequired = packages.filter((p) => p.required && p.version === null);
    const missingOptional = packages.filter((p) => !p.required && p.version === null);
    if (missingRequired.length > 0) {
      problems.push(
        `missing: ${missingRequired.map((p) => p.name).join(", ")}. Install: ${pipCommand(python, missingRequired.map((p) => p.name), trl)}`,
      );
    }
    for (const p of missingOptional) problems.push(`${p.name} is missing (needed for ${p.neededFor}): ${pipCommand(python, [p.name], trl)}`);
    const trlCheck = packages.find((p) => p.name === "trl");
    if (trlCheck?.version && !trlCheck.version.startsWith(trl.split(".").slice(0, 2).join("."))) {
      problems.push(`trl ${trlCheck.version} is installed; critic checks --set names against TRL ${trl}. Either ${pipCommand(python, ["trl"], trl)} or regenerate the names: ${python} assets/trl/dump_fields.py > trl-fields.json, then pass --fields trl-fields.json`);
    }
  }

  let gpus: GpuInfo[] = [];
  let gpuSource: DoctorReport["gpuSource"] = null;
  try {
    const { stdout } = await run(options.nvidiaSmi ?? "nvidia-smi", ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"], env, 15_000);
    gpus = stdout
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => {
        const [name, mem] = l.split(",").map((s) => s.trim());
        return { name: name ?? "GPU", ...(mem && Number.isFinite(Number(mem)) ? { memoryMiB: Number(mem) } : {}) };
      });
    if (gpus.length > 0) gpuSource = "nvidia-smi";
  } catch {
    // No nvidia-smi: fall back to what torch saw.
  }
  if (gpus.length === 0 && probe && probe.devices.length > 0) {
    gpus = probe.devices;
    gpuSource = "torch";
  }
  if (gpus.length === 0) problems.push("no NVIDIA GPU found (nvidia-smi and torch.cuda see none): TRL trains on a GPU; install the NVIDIA driver and a CUDA build of torch, or run the folder on a GPU machine");
  else if (probe?.cuda === false) problems.push(`nvidia-smi sees ${gpus.length} GPU(s) but torch.cuda.is_available() is False: install a CUDA build of torch (${python} -m pip install torch --index-url https://download.pytorch.org/whl/cu128)`);

  const ok = problems.length === 0;
  return {
    python: { executable: python, version: probe?.python ?? null, ok: pythonOk, ...(pythonError ? { error: pythonError } : {}) },
    packages,
    gpus,
    gpuSource,
    cudaAvailable: probe?.cuda ?? null,
    problems,
    ok,
  };
}

function pipCommand(python: string, names: string[], trl: string): string {
  const spec = names.map((n) => (n === "trl" ? `"trl==${trl}"` : n));
  return `${python} -m pip install ${spec.join(" ")}`;
}

export function formatDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`${"python".padEnd(14)}${report.python.version ?? "not found"} (${report.python.executable})${report.python.ok ? "" : "  <- problem"}`);
  for (const p of report.packages) {
    const status = p.version ?? (p.required ? "MISSING" : "missing (optional)");
    lines.push(`${p.name.padEnd(14)}${status}${p.version === null ? `  needed for ${p.neededFor}` : ""}`);
  }
  if (report.gpus.length === 0) lines.push(`${"gpus".padEnd(14)}none`);
  for (const [i, g] of report.gpus.entries()) lines.push(`${`gpu ${i}`.padEnd(14)}${g.name}${g.memoryMiB ? `, ${Math.round(g.memoryMiB / 1024)} GiB` : ""} (${report.gpuSource})`);
  lines.push("");
  if (report.ok) lines.push("ready to train");
  else {
    lines.push(`${report.problems.length} problem(s):`);
    for (const p of report.problems) lines.push(`- ${p}`);
  }
  return lines.join("\n");
}

function versionAtLeast(version: string, min: number[]): boolean {
  const parts = version.split(".").map((n) => Number.parseInt(n, 10));
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeout: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        reject(new Error(code === "ENOENT" ? `${cmd}: command not found` : `${cmd} failed: ${(stderr || error.message).trim().split("\n").pop()}`));
      } else resolve({ stdout, stderr });
    });
  });
}
