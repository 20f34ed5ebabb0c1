export {
  FRAMINGS,
  FRAMING_PROTOCOL,
  HttpStatusError,
  LogSocket,
  type CloseInfo,
  type Framing,
  type ReceivedMessage,
} from './log-socket.js';
export {
  LogsClient,
  type HttpAnswer,
  type HttpLogResponse,
  type LogQuery,
  type MergedJsonRecord,
  type MergedQuery,
} from './logs-client.js';
