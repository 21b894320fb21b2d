"""
Runs a run folder's train.py up to trainer.train() against stand-in torch, datasets and trl
modules, and writes what the trainer was given as JSON. The config dataclasses are built from
the pinned field lists in assets/trl/fields.json (the names `critic train --set` accepts), so a
config.yaml key train.py passes on is checked the way TRL's dataclasses check it (TypeError).

  python3 trl_standin.py <flavour> <run dir> <out.json>
    flavour  old: TRL 1.1-1.6 (trust_remote_code on ModelConfig, get_kbit_device_map, trainers
                  without quantization_config)
             new: TRL >= 1.8 (trust_remote_code on the trainer configs, no get_kbit_device_map,
                  trainers take quantization_config)
"""
import dataclasses
import json
import os
import runpy
import sys
import types

flavour, run_dir, out_path = sys.argv[1:4]
new = flavour == "new"
here = os.path.dirname(os.path.abspath(__file__))
fields = json.load(open(os.path.join(here, "..", "..", "assets", "trl", "fields.json"), encoding="utf-8"))

torch = types.ModuleType("torch")
torch.bfloat16, torch.float16, torch.float32 = "bfloat16", "float16", "float32"
datasets = types.ModuleType("datasets")
datasets.load_dataset = lambda kind, data_files: {split: {"kind": kind, "file": f} for split, f in data_files.items()}

transformers = types.ModuleType("transformers")
transformers.__version__ = "5.0.0" if new else "4.56.2"
trl = types.ModuleType("trl")


def grpo_post_init(self):
    # GRPOConfig.__post_init__'s batch checks (TRL v1.9.0 trl/trainer/grpo_config.py), one process.
    generations = self.num_generations or 8
    steps = self.steps_per_generation or self.gradient_accumulation_steps or 1
    generation_batch = self.generation_batch_size or (self.per_device_train_batch_size or 8) * steps
    if generation_batch % generations:
        raise ValueError(f"generation_batch_size ({generation_batch}) must be divisible by num_generations ({generations}).")
    if self.eval_strategy not in (None, "no"):
        evaluated = self.num_generations_eval or generations
        if (self.per_device_eval_batch_size or 8) % evaluated:
            raise ValueError(f"The global eval batch size ({self.per_device_eval_batch_size} * 1) must be divisible by the number of generations used for evaluation ({evaluated}).")


def dataclass_of(name, names, extra=(), namespace=None):
    names = sorted(set(names) | set(extra))
    return dataclasses.make_dataclass(name, [(n, object, dataclasses.field(default=None)) for n in names], namespace=namespace)


model_names = set(fields["model_config"])
model_names.add("model_name_or_path")
model_names.add("model_revision")
if new:
    model_names.discard("trust_remote_code")
else:
    model_names.add("trust_remote_code")
trl.ModelConfig = dataclass_of("ModelConfig", model_names)

seen = {}
for trainer, info in fields["trainers"].items():
    config_name = info["config"] if isinstance(info, dict) and "config" in info else trainer.upper() + "Config"
    names = set(fields["training_arguments"]) | set(fields.get("training_arguments_newer", [])) | set(fields["base_config"])
    names |= set(info["fields"] if isinstance(info, dict) else info)
    names.add("model_init_kwargs")
    if new:
        names.add("trust_remote_code")
    else:
        names.discard("trust_remote_code")
    config = dataclass_of(config_name, names, namespace={"__post_init__": grpo_post_init} if trainer == "grpo" else None)

    def make_trainer(trainer=trainer):
        if new:
            def __init__(self, model, args, train_dataset=None, eval_dataset=None, peft_config=None, quantization_config=None, reward_funcs=None):
                self.given = dict(model=model, train_dataset=train_dataset, eval_dataset=eval_dataset, peft_config=peft_config, quantization_config=quantization_config, reward_funcs=None if reward_funcs is None else len(reward_funcs))
                self.args = args
        else:
            def __init__(self, model, args, train_dataset=None, eval_dataset=None, peft_config=None, reward_funcs=None):
                self.given = dict(model=model, train_dataset=train_dataset, eval_dataset=eval_dataset, peft_config=peft_config, reward_funcs=None if reward_funcs is None else len(reward_funcs))
                self.args = args

        def train(self, resume_from_checkpoint=None):
            seen.update(trainer=trainer, given=self.given, model_init_kwargs=self.args.model_init_kwargs, resume=resume_from_checkpoint,
                        args={k: v for k, v in dataclasses.asdict(self.args).items() if v is not None})
            with open(out_path, "w", encoding="utf-8") as f:
                json.dump(seen, f, default=str)

        return type(trainer.upper() + "Trainer", (), {"__init__": __init__, "train": train, "save_model": lambda self, d: None, "accelerator": types.SimpleNamespace(is_main_process=False)})

    setattr(trl, config.__name__, config)
    for cls_name in (config_name,):
        setattr(trl, cls_name, config)
    trainer_cls = make_trainer()
    setattr(trl, {"sft": "SFTTrainer", "dpo": "DPOTrainer", "kto": "KTOTrainer", "reward": "RewardTrainer", "grpo": "GRPOTrainer"}[trainer], trainer_cls)
    setattr(trl, {"sft": "SFTConfig", "dpo": "DPOConfig", "kto": "KTOConfig", "reward": "RewardConfig", "grpo": "GRPOConfig"}[trainer], config)

trl.get_peft_config = lambda m: {"lora_r": m.lora_r} if getattr(m, "use_peft", None) else None
trl.get_quantization_config = lambda m: {"load_in_4bit": True} if getattr(m, "load_in_4bit", None) else None
if not new:
    trl.get_kbit_device_map = lambda: {"": 0}

sys.modules.update(torch=torch, datasets=datasets, transformers=transformers, trl=trl)
sys.path.insert(0, run_dir)
sys.argv = ["train.py", "--config", os.path.join(run_dir, "config.yaml")]
runpy.run_path(os.path.join(run_dir, "train.py"), run_name="__main__")
