// The character codes and name classes of the text exposition format, for scanning with `charCodeAt`.

export const isBlank = (c: number): boolean => c === SPACE || c === TAB;
export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLetterOrUnderscore = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
export const isLabelNameStart = isLetterOrUnderscore;
export const isLabelNameChar = (c: number): boolean => isLetterOrUnderscore(c) || isDigit(c);
export const isMetricNameStart = (c: number): boolean => isLetterOrUnderscore(c) || c === COLON;
export const isMetricNameChar = (c: number): boolean => isLabelNameChar(c) || c === COLON;

const SPACE = 0x20;
const TAB = 0x09;
export const HASH = 0x23;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const EQUALS = 0x3d;
export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const BACKSLASH = 0x5c;
export const LOWER_N = 0x6e;
export const NEWLINE = 0x0a;
export const CARRIAGE_RETURN = 0x0d;
export const PLUS = 0x2b;
export const MINUS = 0x2d;
export const DOT = 0x2e;
const COLON = 0x3a;
