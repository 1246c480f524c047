/**
 * The Confluent Schema Registry wire format for Avro: byte 0 is the magic byte 0x00, bytes 1-4 the
 * schema id (big-endian), and the Avro binary body follows. (Protobuf and JSON Schema add message
 * indexes after the id; Avro does not.)
 */
export const CONFLUENT_HEADER_BYTES = 5;

/** The schema id, or why the header is not one. */
export function readConfluentHeader(bytes: Buffer): number | string {
  if (bytes.length < CONFLUENT_HEADER_BYTES) {
    return `confluent: ${bytes.length}-byte message is shorter than the 5-byte header (magic byte and schema id)`;
  }
  const magic = bytes[0]!;
  if (magic !== 0) return `confluent: magic byte 0x${magic.toString(16).padStart(2, '0')}, expected 0x00`;
  return bytes.readUInt32BE(1);
}
