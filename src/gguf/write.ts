/**
 * A small writer for GGUF v3 files (the llama.cpp model format), following ggml's docs/gguf.md:
 * header, metadata key/values, tensor infos, then tensor data aligned to `general.alignment`
 * (32 bytes unless the metadata says otherwise). Everything is little-endian.
 */
import { open, rename, rm } from "node:fs/promises";

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_NAME is 64 including the terminating NUL. */
const MAX_TENSOR_NAME_BYTES = 63;
const MAX_TENSOR_DIMENSIONS = 4;

/** Value type ids of the GGUF spec (gguf_metadata_value_type). */
const VALUE_TYPE_ID = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** ggml_type ids of the tensor types this writer can encode. */
const TENSOR_TYPE_ID = { f32: 0, f16: 1, q4_0: 2, q8_0: 8 } as const;
/** Values per quantisation block (QK4_0 = QK8_0 = 32) and bytes per block (f16 scale + quants). */
const QK = 32;
const BLOCK_BYTES = { q4_0: 2 + QK / 2, q8_0: 2 + QK } as const;

export type GgufScalarType = Exclude<keyof typeof VALUE_TYPE_ID, "array">;
export type GgufScalar = number | bigint | boolean | string;

export type GgufMetadataValue =
  | { type: "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64"; value: number }
  | { type: "uint64" | "int64"; value: number | bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "array"; itemType: GgufScalarType; value: readonly GgufScalar[] };

export type GgufTensorType = keyof typeof TENSOR_TYPE_ID;

export interface GgufTensor {
  name: string;
  /** ggml order: ne[0] (the contiguous dimension) first, e.g. [n_embd, n_vocab] for token_embd.weight. */
  dimensions: readonly number[];
  /** How the values are stored in the file (q4_0 and q8_0 need ne[0] to be a multiple of 32). */
  type: GgufTensorType;
  /** The values as float32, or a function that makes them when the tensor is written (big models). */
  data: Float32Array | (() => Float32Array);
}

export interface GgufFile {
  /** Written in insertion order. */
  metadata: Readonly<Record<string, GgufMetadataValue>>;
  tensors: readonly GgufTensor[];
}

/** Short constructors for metadata values, e.g. `{ "llama.block_count": gguf.u32(2) }`. */
export const gguf = {
  u8: (value: number): GgufMetadataValue => ({ type: "uint8", value }),
  i8: (value: number): GgufMetadataValue => ({ type: "int8", value }),
  u16: (value: number): GgufMetadataValue => ({ type: "uint16", value }),
  i16: (value: number): GgufMetadataValue => ({ type: "int16", value }),
  u32: (value: number): GgufMetadataValue => ({ type: "uint32", value }),
  i32: (value: number): GgufMetadataValue => ({ type: "int32", value }),
  u64: (value: number | bigint): GgufMetadataValue => ({ type: "uint64", value }),
  i64: (value: number | bigint): GgufMetadataValue => ({ type: "int64", value }),
  f32: (value: number): GgufMetadataValue => ({ type: "float32", value }),
  f64: (value: number): GgufMetadataValue => ({ type: "float64", value }),
  bool: (value: boolean): GgufMetadataValue => ({ type: "bool", value }),
  str: (value: string): GgufMetadataValue => ({ type: "string", value }),
  array: (itemType: GgufScalarType, value: readonly GgufScalar[]): GgufMetadataValue => ({ type: "array", itemType, value }),
};

const INTEGER_RANGES: Partial<Record<GgufScalarType, readonly [bigint, bigint]>> = {
  uint8: [0n, 0xffn],
  int8: [-0x80n, 0x7fn],
  uint16: [0n, 0xffffn],
  int16: [-0x8000n, 0x7fffn],
  uint32: [0n, 0xffff_ffffn],
  int32: [-0x8000_0000n, 0x7fff_ffffn],
  uint64: [0n, 0xffff_ffff_ffff_ffffn],
  int64: [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
};

/** Appends little-endian values to a list of chunks. */
class ByteSink {
  readonly chunks: Buffer[] = [];
  length = 0;

  bytes(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }

  private fixed(size: number, write: (buffer: Buffer) => void): void {
    const buffer = Buffer.alloc(size);
    write(buffer);
    this.bytes(buffer);
  }

  u32(value: number): void {
    this.fixed(4, (b) => b.writeUInt32LE(value));
  }

  u64(value: number | bigint): void {
    this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(value)));
  }

  string(value: string): void {
    const utf8 = Buffer.from(value, "utf8");
    this.u64(utf8.length);
    this.bytes(utf8);
  }

  scalar(type: GgufScalarType, value: GgufScalar, where: string): void {
    if (type === "string") {
      if (typeof value !== "string") throw new TypeError(`${where}: expected a string, got ${typeof value}`);
      this.string(value);
      return;
    }
    if (type === "bool") {
      if (typeof value !== "boolean") throw new TypeError(`${where}: expected a boolean, got ${typeof value}`);
      this.fixed(1, (b) => b.writeUInt8(value ? 1 : 0));
      return;
    }
    if (typeof value !== "number" && typeof value !== "bigint") {
      throw new TypeError(`${where}: expected a number for ${type}, got ${typeof value}`);
    }
    if (type === "float32" || type === "float64") {
      const number = Number(value);
      if (type === "float32") this.fixed(4, (b) => b.writeFloatLE(number));
      else this.fixed(8, (b) => b.writeDoubleLE(number));
      return;
    }
    const integer = checkedInteger(type, value, where);
    switch (type) {
      case "uint8": return this.fixed(1, (b) => b.writeUInt8(Number(integer)));
      case "int8": return this.fixed(1, (b) => b.writeInt8(Number(integer)));
      case "uint16": return this.fixed(2, (b) => b.writeUInt16LE(Number(integer)));
      case "int16": return this.fixed(2, (b) => b.writeInt16LE(Number(integer)));
      case "uint32": return this.fixed(4, (b) => b.writeUInt32LE(Number(integer)));
      case "int32": return this.fixed(4, (b) => b.writeInt32LE(Number(integer)));
      case "uint64": return this.fixed(8, (b) => b.writeBigUInt64LE(integer));
      case "int64": return this.fixed(8, (b) => b.writeBigInt64LE(integer));
    }
  }

  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    if (padding > 0) this.bytes(Buffer.alloc(padding));
  }
}

function checkedInteger(type: GgufScalarType, value: number | bigint, where: string): bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`${where}: ${value} is not an integer that ${type} can hold exactly`);
  }
  const integer = BigInt(value);
  const [min, max] = INTEGER_RANGES[type]!;
  if (integer < min || integer > max) throw new RangeError(`${where}: ${integer} is out of range for ${type} [${min}, ${max}]`);
  return integer;
}

function alignmentOf(metadata: GgufFile["metadata"]): number {
  const entry = metadata["general.alignment"];
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  // The spec requires uint32 and a multiple of 8; ggml also requires a power of two.
  const value = entry.type === "uint32" ? entry.value : NaN;
  if (!Number.isInteger(value) || value < 8 || (value & (value - 1)) !== 0) {
    throw new RangeError(`metadata "general.alignment": must be a uint32 power of two >= 8, got ${JSON.stringify(entry)}`);
  }
  return value;
}

function checkTensor(tensor: GgufTensor, index: number, seen: Set<string>): void {
  const where = `tensor #${index} "${tensor.name}"`;
  const nameBytes = Buffer.byteLength(tensor.name, "utf8");
  if (nameBytes === 0 || nameBytes > MAX_TENSOR_NAME_BYTES) {
    throw new RangeError(`${where}: name must be 1..${MAX_TENSOR_NAME_BYTES} bytes, got ${nameBytes}`);
  }
  if (seen.has(tensor.name)) throw new Error(`${where}: duplicate tensor name`);
  seen.add(tensor.name);
  if (!(tensor.type in TENSOR_TYPE_ID)) throw new RangeError(`${where}: unsupported tensor type "${tensor.type}" (f32, f16, q8_0 or q4_0)`);
  const dims = tensor.dimensions;
  if (dims.length < 1 || dims.length > MAX_TENSOR_DIMENSIONS) {
    throw new RangeError(`${where}: needs 1..${MAX_TENSOR_DIMENSIONS} dimensions, got ${dims.length}`);
  }
  for (const dim of dims) {
    if (!Number.isSafeInteger(dim) || dim < 1) throw new RangeError(`${where}: dimension ${dim} is not a positive integer`);
  }
  if ((tensor.type === "q4_0" || tensor.type === "q8_0") && dims[0]! % QK !== 0) {
    throw new RangeError(`${where}: ${tensor.type} needs ne[0] to be a multiple of ${QK}, got ${dims[0]}`);
  }
  if (typeof tensor.data !== "function") checkLength(tensor, tensor.data, where);
}

function elementsOf(tensor: GgufTensor): number {
  return tensor.dimensions.reduce((product, dim) => product * dim, 1);
}

function checkLength(tensor: GgufTensor, data: Float32Array, where = `tensor "${tensor.name}"`): void {
  const elements = elementsOf(tensor);
  if (elements !== data.length) {
    throw new RangeError(`${where}: dimensions [${tensor.dimensions.join(", ")}] hold ${elements} values but data has ${data.length}`);
  }
}

/** Bytes a tensor takes in the file. */
function byteLengthOf(tensor: GgufTensor): number {
  const n = elementsOf(tensor);
  switch (tensor.type) {
    case "f32": return n * 4;
    case "f16": return n * 2;
    default: return (n / QK) * BLOCK_BYTES[tensor.type];
  }
}

/** IEEE 754 half precision bits of a float32 value, rounding to nearest even (as ggml does). */
export function float32ToFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Inf or NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow to Inf
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // underflow to signed zero
    const full = mantissa | 0x800000; // subnormal half: shift in the implicit bit
    const shift = 14 - halfExponent;
    let half = full >>> shift;
    const remainder = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half += 1; // may carry into the exponent: still correct
  return sign | half;
}

function tensorBytes(tensor: GgufTensor): Buffer {
  const data = typeof tensor.data === "function" ? tensor.data() : tensor.data;
  checkLength(tensor, data);
  switch (tensor.type) {
    case "f32": {
      const buffer = Buffer.alloc(data.length * 4);
      for (let i = 0; i < data.length; i++) buffer.writeFloatLE(data[i]!, i * 4);
      return buffer;
    }
    case "f16": {
      const buffer = Buffer.alloc(data.length * 2);
      for (let i = 0; i < data.length; i++) buffer.writeUInt16LE(float32ToFloat16Bits(data[i]!), i * 2);
      return buffer;
    }
    case "q8_0":
      return quantizeQ8_0(data);
    case "q4_0":
      return quantizeQ4_0(data);
  }
}

/**
 * ggml's Q8_0 (quantize_row_q8_0_ref): per block of 32, d = max|x| / 127 stored as f16, then
 * round(x / d) as int8.
 */
export function quantizeQ8_0(data: Float32Array): Buffer {
  const out = Buffer.alloc((data.length / QK) * BLOCK_BYTES.q8_0);
  for (let b = 0, o = 0; b < data.length; b += QK, o += BLOCK_BYTES.q8_0) {
    let amax = 0;
    for (let i = 0; i < QK; i++) amax = Math.max(amax, Math.abs(data[b + i]!));
    const d = amax / 127;
    const id = d !== 0 ? 1 / d : 0;
    out.writeUInt16LE(float32ToFloat16Bits(d), o);
    for (let i = 0; i < QK; i++) out.writeInt8(Math.round(data[b + i]! * id), o + 2 + i);
  }
  return out;
}

/**
 * ggml's Q4_0 (quantize_row_q4_0_ref): per block of 32, the value of largest magnitude m gives
 * d = m / -8 (f16); each x becomes min(15, trunc(x / d + 8.5)), two per byte: the block's first 16
 * values in the low nibbles, the last 16 in the high ones. Dequantised: (q - 8) * d.
 */
export function quantizeQ4_0(data: Float32Array): Buffer {
  const out = Buffer.alloc((data.length / QK) * BLOCK_BYTES.q4_0);
  for (let b = 0, o = 0; b < data.length; b += QK, o += BLOCK_BYTES.q4_0) {
    let amax = 0;
    let max = 0;
    for (let i = 0; i < QK; i++) {
      const v = data[b + i]!;
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d !== 0 ? 1 / d : 0;
    out.writeUInt16LE(float32ToFloat16Bits(d), o);
    const q = (v: number) => Math.min(15, Math.trunc(v * id + 8.5));
    for (let j = 0; j < QK / 2; j++) out[o + 2 + j] = q(data[b + j]!) | (q(data[b + j + QK / 2]!) << 4);
  }
  return out;
}

/** The header, metadata and tensor infos, padded to the alignment, and where each tensor's data goes. */
function encodeHeader(file: GgufFile): { header: Buffer; alignment: number } {
  const alignment = alignmentOf(file.metadata);
  const seen = new Set<string>();
  file.tensors.forEach((tensor, index) => checkTensor(tensor, index, seen));

  const sink = new ByteSink();
  sink.bytes(Buffer.from(GGUF_MAGIC, "ascii"));
  sink.u32(GGUF_VERSION);
  sink.u64(file.tensors.length);
  const entries = Object.entries(file.metadata);
  sink.u64(entries.length);

  for (const [key, entry] of entries) {
    const where = `metadata "${key}"`;
    if (key.length === 0) throw new RangeError("metadata key must not be empty");
    if (!(entry.type in VALUE_TYPE_ID)) throw new RangeError(`${where}: unknown value type "${entry.type}"`);
    sink.string(key);
    sink.u32(VALUE_TYPE_ID[entry.type]);
    if (entry.type === "array") {
      if (!(entry.itemType in VALUE_TYPE_ID)) throw new RangeError(`${where}: unknown array item type "${entry.itemType}"`);
      sink.u32(VALUE_TYPE_ID[entry.itemType]);
      sink.u64(entry.value.length);
      entry.value.forEach((item, i) => sink.scalar(entry.itemType, item, `${where}[${i}]`));
    } else {
      sink.scalar(entry.type, entry.value, where);
    }
  }

  let offset = 0;
  for (const tensor of file.tensors) {
    sink.string(tensor.name);
    sink.u32(tensor.dimensions.length);
    for (const dim of tensor.dimensions) sink.u64(dim);
    sink.u32(TENSOR_TYPE_ID[tensor.type]);
    sink.u64(offset); // relative to the start of the tensor data section
    offset += byteLengthOf(tensor);
    offset += (alignment - (offset % alignment)) % alignment;
  }
  sink.padTo(alignment);
  return { header: Buffer.concat(sink.chunks, sink.length), alignment };
}

/** Each tensor's bytes followed by its padding, one tensor at a time. */
function* tensorChunks(file: GgufFile, alignment: number): Generator<Buffer> {
  for (const tensor of file.tensors) {
    const bytes = tensorBytes(tensor);
    yield bytes;
    const padding = (alignment - (bytes.length % alignment)) % alignment;
    if (padding > 0) yield Buffer.alloc(padding);
  }
}

/** Encodes a complete GGUF v3 file in memory. */
export function encodeGguf(file: GgufFile): Buffer {
  const { header, alignment } = encodeHeader(file);
  return Buffer.concat([header, ...tensorChunks(file, alignment)]);
}

/**
 * Writes a GGUF file atomically (temp file in the same folder, then rename), one tensor at a time,
 * so a model of any size needs memory for its largest tensor only; returns its size in bytes.
 */
export async function writeGguf(path: string, file: GgufFile): Promise<number> {
  const { header, alignment } = encodeHeader(file);
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await open(temp, "w");
  let size = 0;
  try {
    // Not [header, ...tensorChunks()]: spreading the generator would make every tensor before writing one.
    const write = async (chunk: Buffer) => {
      const { bytesWritten } = await handle.write(chunk);
      if (bytesWritten !== chunk.length) throw new Error(`${path}: wrote ${bytesWritten} of ${chunk.length} bytes`);
      size += chunk.length;
    };
    await write(header);
    for (const chunk of tensorChunks(file, alignment)) await write(chunk);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
    return size;
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
}
