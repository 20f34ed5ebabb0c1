// What a private containerd and its tasks are started with, and its config.toml: every path
// under its own dir, no CRI unless asked.

/** The image the CRI plugin runs pod sandboxes from, and the tests' containers too. */
export const SANDBOX_IMAGE = 'enginegate.test/busybox:1';

export interface ContainerdOptions {
  /** Enable the CRI plugin (pods through `runtime.v1.RuntimeService`); slower to start. */
  cri?: boolean;
  /** CRI's `max_container_log_line_size`: lines longer than this are written as P/F pieces. */
  maxContainerLogLineSize?: number;
}

export interface TaskOptions {
  id: string;
  /** `sh -c` script run by the busybox /bin/sh. */
  script: string;
  /** Default: this daemon's test namespace. */
  namespace?: string;
  /** `file:///…` or `binary:///…?…`; none: FIFOs nobody persists. */
  logUri?: string;
  labels?: Record<string, string>;
}

export function containerdConfig(d: string, address: string, options: ContainerdOptions): string {
  const lines = [
    'version = 2',
    `root = "${d}/root"`,
    `state = "${d}/state"`,
    '[grpc]',
    `  address = "${address}"`,
    '[ttrpc]',
    `  address = "${address}.ttrpc"`,
    '[debug]',
    `  address = "${d}/debug.sock"`,
    '[metrics]',
    '  address = ""',
  ];
  if (!options.cri) {
    lines.splice(1, 0, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]');
  }
  lines.push('[plugins]', '  [plugins."io.containerd.internal.v1.opt"]', `    path = "${d}/opt"`);
  if (options.cri) {
    lines.push(
      '  [plugins."io.containerd.grpc.v1.cri"]',
      // Root here lacks CAP_SYS_RESOURCE: without this, every container start fails.
      '    restrict_oom_score_adj = true',
      `    sandbox_image = "${SANDBOX_IMAGE}"`,
      `    max_container_log_line_size = ${options.maxContainerLogLineSize ?? 16384}`,
      '    [plugins."io.containerd.grpc.v1.cri".cni]',
      `      bin_dir = "${d}/cni-bin"`,
      `      conf_dir = "${d}/cni-conf"`,
    );
  }
  return lines.join('\n') + '\n';
}
