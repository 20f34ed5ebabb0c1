export { runConformanceSuite } from './run-conformance-suite.js';
export type {
  Capabilities,
  CapabilityName,
  ConformanceTarget,
  ContainerContext,
  ContainerOptions,
  ContainerWrite,
  CreatedContainer,
  ScenarioOutcome,
  ScenarioResult,
} from './conformance-target.js';
export { SCENARIOS, type ScenarioInfo } from './scenario-catalogue.js';
export { conformanceExportProblem, type ConformanceRunRequest, type PluginConformance } from './plugin-conformance.js';
export { REPORT_ENV, conformanceTable, readConformanceReport, recordScenarioResult } from './conformance-report.js';
export {
  FRAMINGS,
  FRAMING_PROTOCOL,
  HttpStatusError,
  LogSocket,
  LogsClient,
  type Framing,
  type LogQuery,
} from '@enginegate/test-client';
export {
  FramingError,
  decodeBinaryMessages,
  decodeJsonMessages,
  decodeNdjson,
  decodeRawMessages,
  decodeTextMessages,
  type DecodedLine,
  type DecodedRecord,
} from './framing-decoders.js';
