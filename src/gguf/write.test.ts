import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import { encodeGguf, float32ToFloat16Bits, gguf, quantizeQ4_0, quantizeQ8_0, writeGguf, type GgufFile, type GgufTensor } from "./write.js";

const tmp = mkdtempSync(join(tmpdir(), "critic-gguf-write-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tensor(name: string, dimensions: number[], type: GgufTensor["type"] = "f32"): GgufTensor {
  const count = dimensions.reduce((a, b) => a * b, 1);
  return { name, dimensions, type, data: Float32Array.from({ length: count }, (_, i) => i * 0.5 - 3) };
}

const everyType: GgufFile = {
  metadata: {
    "general.architecture": gguf.str("llama"),
    "test.u8": gguf.u8(255),
    "test.i8": gguf.i8(-128),
    "test.u16": gguf.u16(65535),
    "test.i16": gguf.i16(-32768),
    "test.u32": gguf.u32(4294967295),
    "test.i32": gguf.i32(-2147483648),
    "test.u64": gguf.u64(2n ** 64n - 1n),
    "test.i64": gguf.i64(-(2n ** 63n)),
    "test.f32": gguf.f32(0.25),
    "test.f64": gguf.f64(Math.PI),
    "test.bool": gguf.bool(true),
    "test.string": gguf.str("héllo ▁ 日本"),
    "test.strings": gguf.array("string", ["<unk>", "▁the", "", "🎉"]),
    "test.floats": gguf.array("float32", [0, -1.5, 1e-3]),
    "test.ints": gguf.array("int32", [1, -2, 3]),
    "test.empty": gguf.array("uint8", []),
  },
  tensors: [tensor("a.weight", [3, 5]), tensor("b.weight", [7]), tensor("c.weight", [2, 3, 4], "f16")],
};

async function writeAndRead(file: GgufFile, name: string) {
  const path = join(tmp, name);
  const bytes = await writeGguf(path, file);
  return { path, bytes, info: await readGgufFileInfo(path, { logWarnings: false }), raw: readFileSync(path) };
}

describe("quantised blocks (ggml's reference layout)", () => {
  const block = Float32Array.from({ length: 32 }, (_, i) => (i - 12) / 10); // -1.2 .. 1.9

  it("q8_0: f16 scale max|x|/127, then round(x / d) as int8; dequantises within d/2", () => {
    const bytes = quantizeQ8_0(block);
    expect(bytes.length).toBe(34);
    const d = halfToFloat(bytes.readUInt16LE(0));
    expect(d).toBeCloseTo(1.9 / 127, 4);
    for (let i = 0; i < 32; i++) expect(Math.abs(bytes.readInt8(2 + i) * d - block[i]!)).toBeLessThanOrEqual(d / 2 + 1e-6);
    expect(bytes.readInt8(2 + 31)).toBe(127);
  });

  it("q4_0: d = (the value of largest magnitude) / -8, nibbles low then high; dequantises within d", () => {
    const bytes = quantizeQ4_0(block);
    expect(bytes.length).toBe(18);
    const d = halfToFloat(bytes.readUInt16LE(0));
    expect(d).toBeCloseTo(1.9 / -8, 3);
    const q = (i: number) => (i < 16 ? bytes[2 + i]! & 0x0f : bytes[2 + i - 16]! >> 4);
    for (let i = 0; i < 32; i++) expect(Math.abs((q(i) - 8) * d - block[i]!)).toBeLessThanOrEqual(Math.abs(d) + 1e-6);
    expect(q(31)).toBe(0); // the largest value maps to -8 * d
  });
});

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}

describe("writeGguf", () => {
  it("writes every metadata type so that node-llama-cpp reads the same values back", async () => {
    const { info, raw, bytes } = await writeAndRead(everyType, "types.gguf");
    expect(raw.length).toBe(bytes);
    expect(raw.subarray(0, 4).toString("ascii")).toBe("GGUF");
    expect(info.version).toBe(3);
    expect(Number(info.tensorCount)).toBe(3);
    const test = (info.metadata as unknown as { test: Record<string, unknown> }).test;
    expect(test.u8).toBe(255);
    expect(test.i8).toBe(-128);
    expect(test.u16).toBe(65535);
    expect(test.i16).toBe(-32768);
    expect(test.u32).toBe(4294967295);
    expect(test.i32).toBe(-2147483648);
    expect(BigInt(test.u64 as bigint)).toBe(2n ** 64n - 1n);
    expect(BigInt(test.i64 as bigint)).toBe(-(2n ** 63n));
    expect(test.f32).toBe(0.25);
    expect(test.f64).toBe(Math.PI);
    expect(test.bool).toBe(true);
    expect(test.string).toBe("héllo ▁ 日本");
    expect(test.strings).toEqual(["<unk>", "▁the", "", "🎉"]);
    expect(test.floats).toEqual([0, -1.5, Math.fround(1e-3)]);
    expect(test.ints).toEqual([1, -2, 3]);
    expect(test.empty).toEqual([]);
  });

  it("writes tensor infos in ggml order and 32-byte aligned data holding the values", async () => {
    const { info, raw } = await writeAndRead(everyType, "tensors.gguf");
    const infos = info.tensorInfo!;
    expect(infos.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([
      ["a.weight", [3, 5], 0],
      ["b.weight", [7], 0],
      ["c.weight", [2, 3, 4], 1],
    ]);
    const dataStart = info.infoEndOffset!;
    expect(dataStart % 32).toBe(0);
    expect(infos.map((t) => Number(t.offset))).toEqual([0, 64, 96]); // 60 bytes -> 64, 28 -> 32
    expect(raw.length).toBe(dataStart + 96 + 64); // every tensor, the last one too, is padded

    const [a, b, c] = everyType.tensors;
    const f32At = (start: number, count: number) => Array.from({ length: count }, (_, i) => raw.readFloatLE(start + i * 4));
    expect(f32At(dataStart, 15)).toEqual(Array.from(a!.data as Float32Array));
    expect(f32At(dataStart + 64, 7)).toEqual(Array.from(b!.data as Float32Array));
    const halves = Array.from({ length: 24 }, (_, i) => raw.readUInt16LE(dataStart + 96 + i * 2));
    expect(halves).toEqual(Array.from(c!.data as Float32Array, float32ToFloat16Bits));
    expect(raw.subarray(dataStart + 60, dataStart + 64)).toEqual(Buffer.alloc(4)); // padding is zeros
  });

  it("honours general.alignment", async () => {
    const file: GgufFile = { metadata: { "general.alignment": gguf.u32(64) }, tensors: [tensor("x", [3]), tensor("y", [5])] };
    const { info } = await writeAndRead(file, "aligned.gguf");
    expect(info.infoEndOffset! % 64).toBe(0);
    expect(info.tensorInfo!.map((t) => Number(t.offset))).toEqual([0, 64]);
    expect(() => encodeGguf({ metadata: { "general.alignment": gguf.u32(12) }, tensors: [] })).toThrow(/general\.alignment.*power of two/);
    expect(() => encodeGguf({ metadata: { "general.alignment": gguf.u64(64) }, tensors: [] })).toThrow(/general\.alignment/);
  });

  it("is deterministic", () => {
    expect(encodeGguf(everyType).equals(encodeGguf(everyType))).toBe(true);
  });

  it("rejects bad input with messages naming the key or tensor", () => {
    const bad = (file: Partial<GgufFile>) => () => encodeGguf({ metadata: {}, tensors: [], ...file });
    expect(bad({ metadata: { "x.small": gguf.u8(256) } })).toThrow(/metadata "x\.small": 256 is out of range for uint8/);
    expect(bad({ metadata: { "x.neg": gguf.u32(-1) } })).toThrow(/metadata "x\.neg": -1 is out of range for uint32/);
    expect(bad({ metadata: { "x.frac": gguf.i32(1.5) } })).toThrow(/metadata "x\.frac": 1\.5 is not an integer/);
    expect(bad({ metadata: { "x.arr": gguf.array("int32", [1, "two"]) } })).toThrow(/metadata "x\.arr"\[1\]: expected a number/);
    expect(bad({ metadata: { "x.s": gguf.array("string", ["a", 2]) } })).toThrow(/metadata "x\.s"\[1\]: expected a string/);
    expect(bad({ tensors: [tensor("t", [2, 3]), { ...tensor("u", [2]), dimensions: [3] }] })).toThrow(
      /tensor #1 "u": dimensions \[3\] hold 3 values but data has 2/,
    );
    expect(bad({ tensors: [tensor("t", [2]), tensor("t", [2])] })).toThrow(/tensor #1 "t": duplicate tensor name/);
    expect(bad({ tensors: [tensor("n".repeat(64), [1])] })).toThrow(/name must be 1\.\.63 bytes, got 64/);
    expect(bad({ tensors: [tensor("five", [1, 1, 1, 1, 1])] })).toThrow(/needs 1\.\.4 dimensions, got 5/);
    expect(bad({ tensors: [{ ...tensor("q", [2]), type: "q5_k" as "f32" }] })).toThrow(/unsupported tensor type "q5_k"/);
    expect(bad({ tensors: [{ ...tensor("q", [2]), type: "q4_0" }] })).toThrow(/q4_0 needs ne\[0\] to be a multiple of 32, got 2/);
  });

  it("writes one tensor at a time: a tensor's values are made after the ones before it are on disk", async () => {
    const dir = mkdtempSync(join(tmp, "stream-"));
    const onDisk: number[] = [];
    // Each tensor's data function notes how many bytes the temp file holds when it is called.
    const lazy = (name: string): GgufTensor => ({
      name,
      dimensions: [64, 4],
      type: "q8_0",
      data: () => {
        const temp = readdirSync(dir).find((f) => f.endsWith(".tmp"))!;
        onDisk.push(statSync(join(dir, temp)).size);
        return new Float32Array(256).fill(0.5);
      },
    });
    await writeGguf(join(dir, "m.gguf"), { metadata: {}, tensors: [lazy("a"), lazy("b"), lazy("c")] });
    // The header is on disk before the first tensor is made, and each tensor (8 blocks of 34 bytes,
    // padded to 32) before the next.
    expect(onDisk[0]).toBeGreaterThan(0);
    expect(onDisk[1]! - onDisk[0]!).toBe(288);
    expect(onDisk[2]! - onDisk[1]!).toBe(288);
  });

  it("leaves no temp file behind", async () => {
    const dir = mkdtempSync(join(tmp, "atomic-"));
    await writeGguf(join(dir, "m.gguf"), everyType);
    expect(readdirSync(dir)).toEqual(["m.gguf"]);
    await expect(writeGguf(join(dir, "missing-dir", "m.gguf"), everyType)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(["m.gguf"]);
  });
});

describe("float32ToFloat16Bits", () => {
  it("converts like IEEE 754 round-to-nearest-even", () => {
    expect(float32ToFloat16Bits(0)).toBe(0x0000);
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(-2)).toBe(0xc000);
    expect(float32ToFloat16Bits(0.1)).toBe(0x2e66);
    expect(float32ToFloat16Bits(65504)).toBe(0x7bff); // largest finite half
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway, ties to even (down)
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, ties to even (up)
    expect(float32ToFloat16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float32ToFloat16Bits(2 ** -14 - 2 ** -24)).toBe(0x03ff); // largest subnormal
    expect(float32ToFloat16Bits(2 ** -26)).toBe(0x0000); // underflow
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(float32ToFloat16Bits(NaN) & 0x7fff).toBeGreaterThan(0x7c00);
  });
});
