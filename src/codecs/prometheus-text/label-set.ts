// A sample's label object: setting a label safely, comparing two label sets.

export function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  let count = 0;
  for (const key in a) {
    if (!Object.hasOwn(b, key) || a[key] !== b[key]) return false;
    count++;
  }
  for (const _ in b) count--;
  return count === 0;
}

export function setLabel(labels: Record<string, string>, name: string, value: string): void {
  // `__proto__` is a valid label name; assigning it would replace the object's prototype.
  if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
  else labels[name] = value;
}
