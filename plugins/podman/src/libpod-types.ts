// The fields of libpod API answers that the plugin reads (Podman 4.x; other fields are ignored).

/** An entry of `GET /libpod/containers/json?all=true`. */
export interface LibpodContainerSummary {
  Id: string;
  Names: string[] | null;
  Image: string;
  /** `created`, `running`, `exited`, `paused`, … */
  State: string;
  /** RFC3339Nano */
  Created: string;
  Labels: Record<string, string> | null;
  /** The pod's ID, or '' outside a pod. */
  Pod: string;
  PodName: string;
  /** The pod's infra (pause) container. */
  IsInfra: boolean;
}

/** `GET /libpod/containers/{id}/json` */
export interface LibpodInspect {
  Id: string;
  Name: string;
  Created: string;
  ImageName?: string;
  Pod?: string;
  IsInfra?: boolean;
  State: {
    Status: string;
    Running: boolean;
    Restarting?: boolean;
    ExitCode: number;
    /** RFC3339Nano; `0001-01-01T00:00:00Z` when it never ran. */
    StartedAt: string;
    FinishedAt: string;
  };
  Config: {
    Tty?: boolean;
    Labels?: Record<string, string> | null;
  };
  HostConfig?: {
    LogConfig?: { Type?: string; Path?: string } | null;
  };
}

/** An entry of `GET /libpod/pods/json`. */
export interface LibpodPodSummary {
  Id: string;
  Name: string;
  Status: string;
  Labels: Record<string, string> | null;
  InfraId: string;
  Containers: Array<{ Id: string; Names: string; Status: string }> | null;
}
