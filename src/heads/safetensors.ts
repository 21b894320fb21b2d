/**
 * A small safetensors reader and writer (the format: an 8-byte little-endian header length, a JSON
 * header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then
 * the tensors' bytes, little-endian, offsets relative to the end of the header). Enough for a judge
 * package's head: F32, F16 and BF16 matrices, read as Float32Array.
 */
import { open, readFile, rename, rm } from "node:fs/promises";
import { float32ToFloat16Bits } from "../gguf/write.js";

export type SafetensorsDType = "F32" | "F16" | "BF16";

export interface Tensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array;
}

const BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };
/** Safetensors refuses headers above 100 MB; a head's is a few hundred bytes. */
const MAX_HEADER = 100_000_000;

export function decodeSafetensors(bytes: Buffer, file = "<safetensors>"): Map<string, Tensor> {
  if (bytes.length < 8) throw new Error(`${file}: not a safetensors file (${bytes.length} bytes)`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER || 8 + headerLength > bytes.length) throw new Error(`${file}: header length ${headerLength} does not fit the file (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file}: the header is not JSON: ${(error as Error).message}`);
  }
  const body = bytes.subarray(8 + headerLength);
  const tensors = new Map<string, Tensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype;
    if (dtype !== "F32" && dtype !== "F16" && dtype !== "BF16") throw new Error(`${file}: tensor "${name}": dtype ${String(dtype)} is not supported (F32, F16 or BF16)`);
    if (!Array.isArray(info.shape) || !info.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${file}: tensor "${name}": bad shape`);
    const shape = info.shape as number[];
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2) throw new Error(`${file}: tensor "${name}": bad data_offsets`);
    const [begin, end] = offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= body.length && end - begin === count * BYTES[dtype])) {
      throw new Error(`${file}: tensor "${name}": data_offsets [${begin}, ${end}] do not hold ${count} ${dtype} values in ${body.length} bytes`);
    }
    tensors.set(name, { dtype, shape, data: toFloat32(body.subarray(begin, end), dtype, count) });
  }
  return tensors;
}

function toFloat32(raw: Buffer, dtype: SafetensorsDType, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === "F32") {
    for (let i = 0; i < count; i++) out[i] = raw.readFloatLE(i * 4);
  } else if (dtype === "BF16") {
    const word = new Uint32Array(1);
    const f = new Float32Array(word.buffer);
    for (let i = 0; i < count; i++) {
      word[0] = raw.readUInt16LE(i * 2) << 16;
      out[i] = f[0]!;
    }
  } else {
    for (let i = 0; i < count; i++) out[i] = float16ToFloat32(raw.readUInt16LE(i * 2));
  }
  return out;
}

export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor "${name}": shape [${t.shape.join(", ")}] holds ${count} values, data has ${t.data.length}`);
    const raw = Buffer.alloc(count * BYTES[t.dtype]);
    for (let i = 0; i < count; i++) {
      const v = t.data[i]!;
      if (t.dtype === "F32") raw.writeFloatLE(v, i * 4);
      else if (t.dtype === "F16") raw.writeUInt16LE(float32ToFloat16Bits(v), i * 2);
      else raw.writeUInt16LE(float32ToBFloat16Bits(v), i * 2);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + raw.length] };
    parts.push(raw);
    offset += raw.length;
  }
  // The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json, "utf8"), ...parts]);
}

function float32ToBFloat16Bits(value: number): number {
  const f = new Float32Array([value]);
  const bits = new Uint32Array(f.buffer)[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  // Round to nearest even on the dropped 16 bits.
  return ((bits + 0x7fff + ((bits >> 16) & 1)) >>> 16) & 0xffff;
}

export async function readSafetensors(path: string): Promise<Map<string, Tensor>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}

/** Writes atomically (temporary file, fsync, rename), so a reader never sees half a file. */
export async function writeSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<number> {
  const bytes = encodeSafetensors(tensors, metadata);
  await writeFileDurably(path, bytes);
  return bytes.length;
}

export async function writeFileDurably(path: string, bytes: Buffer | string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const handle = await open(temporary, "w");
  try {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    const { bytesWritten } = await handle.write(data, 0, data.length, 0);
    if (bytesWritten !== data.length) throw new Error(`${path}: wrote ${bytesWritten} of ${data.length} bytes`);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temporary, path);
}
