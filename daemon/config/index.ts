export {
  CONFIG_ENV,
  LOG_COMPONENTS,
  LOG_LEVELS,
  SIM_PSAM_READER,
  configSchemaDoc,
  isLoopbackHost,
  loadConfig,
  parseConfig,
  readerMatcher,
  renderConfigDoc,
  resolveSimulation,
} from './config.js';
export type { ConfigKeyDoc, DaemonConfig, IdReaderKind, LoadConfigOptions, LogComponent, LogLevel, OperatorAccount, PinPadKind } from './config.js';
export { projectRoot } from './root.js';
