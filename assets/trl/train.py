#!/usr/bin/env python3
"""Trains a model with TRL from the config.yaml beside this file.

Written by `critic train`. Change config.yaml (or re-run `critic train ... --set key=value`),
not this file. Run it through launch.sh:

    accelerate launch --config_file accelerate.yaml train.py --config config.yaml

config.yaml has four parts: `trainer` (sft, dpo, kto, reward or grpo), `data` (the export's
JSONL or Parquet files, loaded with datasets.load_dataset), `model` (fields of trl.ModelConfig)
and `training` (fields of the trainer's config dataclass, e.g. trl.SFTConfig).
"""
import argparse
import dataclasses
import importlib
import inspect
import json
import os
import sys

import yaml

CLASSES = {
    "sft": ("SFTConfig", "SFTTrainer"),
    "dpo": ("DPOConfig", "DPOTrainer"),
    "kto": ("KTOConfig", "KTOTrainer"),
    "reward": ("RewardConfig", "RewardTrainer"),
    "grpo": ("GRPOConfig", "GRPOTrainer"),
}


def trl_classes(trainer):
    import trl

    config_name, trainer_name = CLASSES[trainer]
    try:
        return getattr(trl, config_name), getattr(trl, trainer_name)
    except AttributeError:
        # Trainers that moved to trl.experimental (KTO in TRL 1.x).
        module = importlib.import_module(f"trl.experimental.{trainer}")
        return getattr(module, config_name), getattr(module, trainer_name)


def field_names(cls):
    return {f.name for f in dataclasses.fields(cls) if f.init}


def transformers_major():
    import transformers

    return int(transformers.__version__.split(".")[0])


def check_fields(config_file, section, values, names, where):
    """Fails before the model loads when config.yaml names a field the installed TRL lacks."""
    import difflib

    unknown = [key for key in values if key not in names]
    if not unknown:
        return
    lines = []
    for key in unknown:
        close = difflib.get_close_matches(key, sorted(names), n=2)
        lines.append(f"  {section}.{key}" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
    sys.exit(f"{config_file}: not a field of the installed {where}:\n" + "\n".join(lines) +
             "\nThe run folder was written for the TRL named in config.yaml; `critic train doctor` shows what is installed.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yaml")
    cli = parser.parse_args()
    here = os.path.dirname(os.path.abspath(cli.config))
    with open(cli.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    trainer = cfg["trainer"]

    import torch
    from datasets import load_dataset
    from trl import ModelConfig, get_peft_config, get_quantization_config

    config_class, trainer_class = trl_classes(trainer)

    model_cfg = dict(cfg.get("model") or {})
    model_fields = field_names(ModelConfig)
    if "dtype" in model_cfg and "dtype" not in model_fields:  # TRL before 0.22 called it torch_dtype
        model_cfg["torch_dtype"] = model_cfg.pop("dtype")

    training = dict(cfg.get("training") or {})
    # Paths in config.yaml are relative to its folder, so a copied run folder still finds its data.
    training["output_dir"] = os.path.join(here, training.get("output_dir") or "output")
    training_fields = field_names(config_class)
    if "trust_remote_code" in training and "trust_remote_code" not in training_fields:
        # TRL before 1.7 kept trust_remote_code on ModelConfig.
        model_cfg["trust_remote_code"] = training.pop("trust_remote_code")
    warmup = training.get("warmup_steps")
    if isinstance(warmup, float) and 0 < warmup < 1 and transformers_major() < 5:
        # transformers 5 reads a warmup_steps below 1 as a ratio; 4.x wants warmup_ratio for that.
        training["warmup_ratio"] = training.pop("warmup_steps")
    check_fields(cli.config, "model", model_cfg, model_fields, "trl.ModelConfig")
    check_fields(cli.config, "training", training, training_fields, f"trl.{config_class.__name__}")
    model_args = ModelConfig(**model_cfg)
    training_args = config_class(**training)

    data = cfg["data"]
    files = {"train": os.path.normpath(os.path.join(here, data["train"]))}
    if data.get("test"):
        files["test"] = os.path.normpath(os.path.join(here, data["test"]))
    kind = "parquet" if files["train"].endswith(".parquet") else "json"
    dataset = load_dataset(kind, data_files=files)

    dtype_name = getattr(model_args, "dtype", None) or getattr(model_args, "torch_dtype", None)
    dtype = dtype_name if dtype_name in (None, "auto") else getattr(torch, dtype_name)
    # TRL 1.7 moved trust_remote_code from ModelConfig to the trainer configs.
    remote_code_from = training_args if hasattr(training_args, "trust_remote_code") else model_args
    model_kwargs = dict(
        revision=model_args.model_revision,
        trust_remote_code=getattr(remote_code_from, "trust_remote_code", False),
        attn_implementation=model_args.attn_implementation,
        dtype=dtype,
    )
    # Values the user set with --set model_init_kwargs=... win over the ones derived here.
    user_kwargs = getattr(training_args, "model_init_kwargs", None) or {}
    model_kwargs.update(json.loads(user_kwargs) if isinstance(user_kwargs, str) else dict(user_kwargs))
    quantization_config = get_quantization_config(model_args)
    trainer_takes_quantization = "quantization_config" in inspect.signature(trainer_class.__init__).parameters
    if quantization_config is not None and not trainer_takes_quantization:
        # TRL before 1.8: the quantised model is placed by get_kbit_device_map (removed in 1.8).
        from trl import get_kbit_device_map

        model_kwargs.setdefault("device_map", get_kbit_device_map())
        model_kwargs.setdefault("quantization_config", quantization_config)
    training_args.model_init_kwargs = model_kwargs

    kwargs = dict(
        model=model_args.model_name_or_path,
        args=training_args,
        train_dataset=dataset["train"],
        eval_dataset=dataset["test"] if "test" in dataset else None,
        peft_config=get_peft_config(model_args),
    )
    if quantization_config is not None and trainer_takes_quantization:
        kwargs["quantization_config"] = quantization_config
    if trainer == "grpo":
        sys.path.insert(0, here)
        from reward_fn import reward_fn

        kwargs["reward_funcs"] = [reward_fn]

    run = trainer_class(**kwargs)
    run.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    run.save_model(training_args.output_dir)
    if run.accelerator.is_main_process:
        print(f"critic: model saved to {training_args.output_dir}", flush=True)


if __name__ == "__main__":
    main()
