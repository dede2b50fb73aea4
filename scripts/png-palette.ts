import { readFile, writeFile } from "node:fs/promises";
import { crc32, deflateSync, inflateSync } from "node:zlib";

/**
 * Makes a browser screenshot a small PNG for the docs: Chromium writes 24-bit colour, but a
 * dashboard has flat colours and grey text edges, a few hundred to a couple of thousand in all.
 * The 256 most frequent become a palette, each other colour its nearest entry (the faint edges
 * of letters), and the file is written as an 8-bit palette PNG at zlib's best compression:
 * about a third of the size, no visible change. Only what Chromium writes is read: 8-bit RGB
 * or RGBA, not interlaced (alpha is dropped; screenshots are opaque).
 */

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const PALETTE_SIZE = 256;
const COLOR_RGB = 2;
const COLOR_RGBA = 6;
const COLOR_PALETTE = 3;

interface Image {
  width: number;
  height: number;
  /** 0xRRGGBB per pixel, row by row. */
  rgb: Uint32Array;
}

/** The PNG filters (RFC 2083 §6): each byte from its raw value and its left, up and upper-left neighbours. */
function unfilter(type: number, value: number, a: number, b: number, c: number): number {
  if (type === 1) return value + a;
  if (type === 2) return value + b;
  if (type === 3) return value + ((a + b) >> 1);
  if (type === 4) {
    const p = a + b - c;
    const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
    return value + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
  }
  return value;
}

function decode(png: Buffer): Image {
  let width = 0, height = 0, bpp = 0;
  const idat: Buffer[] = [];
  for (let pos = SIGNATURE.length; pos < png.length; ) {
    const length = png.readUInt32BE(pos);
    const kind = png.toString("ascii", pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + length);
    if (kind === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || (data[9] !== COLOR_RGB && data[9] !== COLOR_RGBA) || data[12] !== 0) throw new Error("not an 8-bit RGB(A) non-interlaced PNG");
      bpp = data[9] === COLOR_RGBA ? 4 : 3;
    } else if (kind === "IDAT") idat.push(data);
    pos += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const bytes = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const a = x >= bpp ? bytes[at - bpp] : 0, b = y > 0 ? bytes[at - stride] : 0, c = x >= bpp && y > 0 ? bytes[at - stride - bpp] : 0;
      bytes[at] = unfilter(type, raw[y * (stride + 1) + 1 + x], a, b, c) & 255;
    }
  }
  const rgb = new Uint32Array(width * height);
  for (let i = 0; i < rgb.length; i++) rgb[i] = bytes.readUIntBE(i * bpp, 3);
  return { width, height, rgb };
}

function chunk(kind: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(kind, "ascii"), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, tail]);
}

function distance(p: number, q: number): number {
  return ((p >> 16) - (q >> 16)) ** 2 + (((p >> 8) & 255) - ((q >> 8) & 255)) ** 2 + ((p & 255) - (q & 255)) ** 2;
}

function encodePalette({ width, height, rgb }: Image): Buffer {
  const counts = new Map<number, number>();
  for (const color of rgb) counts.set(color, (counts.get(color) ?? 0) + 1);
  const palette = [...counts.entries()].sort((p, q) => q[1] - p[1]).slice(0, PALETTE_SIZE).map(([color]) => color);
  const index = new Map(palette.map((color, i) => [color, i]));
  const indexOf = (color: number): number => {
    let found = index.get(color);
    if (found === undefined) {
      found = palette.reduce((best, entry, i) => (distance(color, entry) < distance(color, palette[best]) ? i : best), 0);
      index.set(color, found);
    }
    return found;
  };
  // Each row: filter type 0 (none, best for palette images), then one index per pixel.
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = indexOf(rgb[y * width + x]);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = COLOR_PALETTE;
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach((color, i) => plte.writeUIntBE(color, i * 3, 3));
  return Buffer.concat([SIGNATURE, chunk("IHDR", header), chunk("PLTE", plte), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", Buffer.alloc(0))]);
}

/** Rewrites the PNG at `path` as an 8-bit palette PNG. */
export async function toPalettePng(path: string): Promise<void> {
  await writeFile(path, encodePalette(decode(await readFile(path))));
}
