/**
 * The head of a small JSON pipeline for unit tests of config handling (reload compatibility, the
 * tenant registry): everything up to `window:`; a test appends its metrics, topics and tenants.
 */
export const SHOP_PIPELINE_HEAD = `
name: shop
source: { type: kafka, brokers: 127.0.0.1:9092, topics: [calls], group_id: shop }
decode: { codec: json }
event_time: { field: ts }
tenant: { field: tenant }
window: { type: tumbling, size: 10s }
`;
