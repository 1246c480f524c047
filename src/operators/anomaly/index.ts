export { anomalyConfig, anomalyConfigSchema, type AnomalyConfig, type AnomalyConfigInput } from './config.ts';
export { AnomalyDetector, type AnomalyPoint } from './detector.ts';
export { parseTimestamp } from './timestamps.ts';
