import { PLUGIN_API_VERSION, definePlugin, registerEngine } from '@enginegate/plugin-api';
import { ContainerdEngine } from './containerd-engine.js';
import { CONTAINERD_SETTINGS, readPluginConfig } from './plugin-config.js';

export { ContainerdEngine, type ContainerdEngineOptions } from './containerd-engine.js';
export { ContainerdLogSource } from './containerd-log-source.js';
export { ContainerdClient, type ContainerdContainer, type ContainerdTask } from './containerd-client.js';
export { ContainerResolver, EXCLUDED_NAMESPACES, containerNames } from './container-resolver.js';
export { LogLocator, CRI_CONTAINER_METADATA, NERDCTL_LABEL, type LogLocation } from './log-location.js';
export { LogRoots, DEFAULT_LOG_ROOTS } from './log-roots.js';
export { LogFileStream, type LogFileStreamOptions } from './log-file-stream.js';
export { JournaldStream } from './journald-stream.js';
export { fileHasWriter } from './file-writers.js';
export { DiskFullWatch, DISK_FULL_REASON, freeBytesOf, type FreeBytes } from './disk-full.js';
export {
  criFormat,
  jsonFileFormat,
  rawFormat,
  journaldJsonFormat,
  type LogFileFormat,
  type LogEntry,
} from './log-formats.js';
export { listRotatedFiles, openLogSegment, type LogSegment, type RotationScheme } from './log-segments.js';
export { findTailPosition, findTimePosition, type SegmentPosition } from './log-positioning.js';
export { TaskExitMonitor, type TaskExit, type TaskWatch } from './task-exit-monitor.js';
export { EventSubscription, type SubscriptionListener } from './event-subscription.js';
export { ContainerdEvents, CONTAINER_EVENT_TOPICS } from './containerd-events.js';
export { toContainerInfo } from './container-info.js';
export {
  readPluginConfig,
  CONTAINERD_SETTINGS,
  DEFAULT_CONTAINERD_ADDRESS,
  type ContainerdPluginConfig,
} from './plugin-config.js';
export { defaultProtoDir, loadContainerdProtos } from './proto-definitions.js';

/**
 * The `containerd` engine plugin. Its settings are CONTAINERD_SETTINGS: `address`, `logRoots`,
 * `pollIntervalMs`, `exitSettleMs`, `journalctlPath`, `protoDir`.
 */
export default definePlugin({
  name: 'containerd',
  apiVersion: PLUGIN_API_VERSION,
  settings: CONTAINERD_SETTINGS,
  register(container) {
    registerEngine(
      container,
      ({ settings, logger, reportHealth }) =>
        new ContainerdEngine({ config: readPluginConfig(settings), logger, reportHealth }),
    );
  },
});
