import avro from 'avsc';

/**
 * Says why a writer schema cannot be resolved to the reader schema, where avsc's own message does
 * not: for an enum it says `cannot read "Status" as "Status"`. The usual cause is an enum whose
 * writer has symbols the reader lacks, with no reader `default` to map them to; name those symbols
 * (schema content, not record data). Otherwise avsc's message stands.
 */
export function describeResolutionError(reader: avro.Type, writer: avro.Type, avscMessage: string): string {
  const readerEnums = new Map<string, avro.types.EnumType>();
  collectEnums(reader, readerEnums, new Set());
  const writerEnums = new Map<string, avro.types.EnumType>();
  collectEnums(writer, writerEnums, new Set());
  for (const [name, writerEnum] of writerEnums) {
    const readerEnum = readerEnums.get(name);
    if (readerEnum === undefined || (readerEnum as unknown as { default?: string }).default !== undefined) continue;
    const missing = writerEnum.symbols.filter((symbol) => !readerEnum.symbols.includes(symbol));
    if (missing.length > 0) {
      const list = missing.slice(0, 5).map((symbol) => JSON.stringify(symbol)).join(', ') + (missing.length > 5 ? `, … (${missing.length} in all)` : '');
      return `enum ${name}: the writer's symbol${missing.length > 1 ? 's' : ''} ${list} ${missing.length > 1 ? 'are' : 'is'} not in the reader's symbols, and the reader's enum has no \`default\` to read ${missing.length > 1 ? 'them' : 'it'} as`;
    }
  }
  return avscMessage;
}

function collectEnums(type: avro.Type, out: Map<string, avro.types.EnumType>, seen: Set<avro.Type>): void {
  if (seen.has(type)) return;
  seen.add(type);
  if (type instanceof avro.types.EnumType) out.set(type.name!, type);
  else if (type instanceof avro.types.RecordType) for (const field of type.fields) collectEnums(field.type, out, seen);
  else if (type instanceof avro.types.ArrayType) collectEnums(type.itemsType, out, seen);
  else if (type instanceof avro.types.MapType) collectEnums(type.valuesType as avro.Type, out, seen);
  else if (type instanceof avro.types.UnwrappedUnionType || type instanceof avro.types.WrappedUnionType) for (const branch of type.types) collectEnums(branch, out, seen);
}
