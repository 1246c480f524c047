/** Items grouped by their topic, topics in order of first appearance (kafkajs takes requests per topic). */
export function groupByTopic<T extends { topic: string }>(items: readonly T[]): [string, T[]][] {
  const topics = new Map<string, T[]>();
  for (const item of items) {
    const list = topics.get(item.topic);
    if (list) list.push(item);
    else topics.set(item.topic, [item]);
  }
  return [...topics];
}
