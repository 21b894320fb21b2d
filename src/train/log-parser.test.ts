import { describe, expect, it } from "vitest";
import { applyEvent, emptyTrainState, noteErrorLine, parseLogDict, parseTrainerLine } from "./log-parser.js";

describe("TRL log lines", () => {
  it("reads the Trainer's log dict as printed by SFTTrainer (numbers, scientific notation)", () => {
    const line =
      "{'loss': 0.3771, 'grad_norm': 0.6300405859947205, 'learning_rate': 0.0001891006524188368, 'entropy': 1.9093962386250496, 'num_tokens': 5734.0, 'mean_token_accuracy': 0.8984374925494194, 'epoch': 0.01}           ";
    expect(parseLogDict(line)).toEqual({
      kind: "metrics",
      phase: "train",
      values: { loss: 0.3771, grad_norm: 0.6300405859947205, learning_rate: 0.0001891006524188368, entropy: 1.9093962386250496, num_tokens: 5734, mean_token_accuracy: 0.8984374925494194, epoch: 0.01 },
    });
    expect(parseLogDict("{'loss': 5.9309, 'grad_norm': 15.3125, 'learning_rate': 5.5e-05, 'epoch': 0.03}")?.values.learning_rate).toBe(5.5e-5);
  });

  it("reads quoted, numpy and tensor values, eval dicts and the final summary", () => {
    expect(parseLogDict("{'loss': '0.6931', 'grad_norm': '4.12', 'learning_rate': '5e-07', 'epoch': '0.02'}")?.values).toEqual({ loss: 0.6931, grad_norm: 4.12, learning_rate: 5e-7, epoch: 0.02 });
    expect(parseLogDict("{'loss': np.float64(0.25), 'grad_norm': tensor(1.5, device='cuda:0'), 'epoch': 1.0}")?.values).toEqual({ loss: 0.25, grad_norm: 1.5, epoch: 1 });
    const dpo = parseLogDict("{'loss': 0.6931, 'rewards/chosen': 0.0, 'rewards/margins': -0.01, 'logps/chosen': -243.1, 'epoch': 0.5}");
    expect(dpo?.values["rewards/margins"]).toBe(-0.01);
    expect(parseLogDict("{'eval_loss': 0.1376, 'eval_runtime': 30.73, 'eval_samples_per_second': 19.785, 'epoch': 0.01}")?.phase).toBe("eval");
    expect(parseLogDict("{'train_runtime': 1234.5, 'train_samples_per_second': 3.2, 'train_steps_per_second': 0.4, 'train_loss': 0.812, 'epoch': 2.0}")?.phase).toBe("summary");
    // Other dicts a run prints are not metrics.
    expect(parseLogDict("{'model_type': 'llama', 'vocab_size': 32000}")).toBeUndefined();
    expect(parseLogDict("no dict here")).toBeUndefined();
  });

  it("reads tqdm's bar, including several redraws on one carriage-return line", () => {
    const line = "  1%|█▉          | 100/7252 [24:16<29:02:42, 14.62s/it]";
    expect(parseTrainerLine(line)).toEqual([{ kind: "progress", step: 100, total: 7252, elapsed: "24:16", remaining: "29:02:42" }]);
    const redraws = "  0%|          | 0/20 [00:00<?, ?it/s]\r  5%|▌         | 1/20 [00:01<00:19,  1.00it/s]\r 10%|█         | 2/20 [00:02<00:18,  1.00it/s]";
    expect(parseTrainerLine(redraws).map((e) => (e.kind === "progress" ? e.step : -1))).toEqual([0, 1, 2]);
    expect(parseTrainerLine("[INFO|trainer.py:3910] 2025-02-16 18:41:31,587 >> Saving model checkpoint to /x/checkpoint-100")).toEqual([]);
  });

  it("folds events into the run's state and remembers the last error line", () => {
    const state = emptyTrainState();
    for (const line of [
      " 25%|██▌       | 5/20 [00:05<00:15,  1.00it/s]",
      "{'loss': 1.5, 'grad_norm': 2.0, 'learning_rate': 1.5e-05, 'epoch': 0.5}",
      "Map: 100%|██████████| 64/64 [00:00<00:00, 1200.00 examples/s]",
      "{'eval_loss': 1.2, 'epoch': 0.5}",
    ]) {
      for (const event of parseTrainerLine(line)) applyEvent(state, event);
      noteErrorLine(state, line);
    }
    expect(state).toMatchObject({ step: 5, total: 20, loss: 1.5, learningRate: 1.5e-5, evalLoss: 1.2, epoch: 0.5, lastError: null });
    noteErrorLine(state, "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.");
    expect(state.lastError).toMatch(/CUDA out of memory/);
  });
});
