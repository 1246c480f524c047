/**
 * Length of a leading UTF-8 byte order mark (3) or 0. RFC 8259 §8.1: a parser may ignore one, and
 * producers on Windows write one; both JSON codecs (json, otlp_json) skip it, so the same bytes
 * get the same verdict in either.
 */
export function bomLength(bytes: Uint8Array): number {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}
