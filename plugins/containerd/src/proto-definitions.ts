import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** The containerd services the plugin calls, relative to the proto directory. */
const SERVICE_FILES = [
  'containerd/services/version/v1/version.proto',
  'containerd/services/namespaces/v1/namespace.proto',
  'containerd/services/containers/v1/containers.proto',
  'containerd/services/tasks/v1/tasks.proto',
  'containerd/services/events/v1/events.proto',
];
/** Event payloads that arrive inside `google.protobuf.Any`. */
const EVENT_FILES = ['containerd/events/task.proto', 'containerd/events/container.proto'];

/** Field names as containerd spells them; int64 as strings; enums by name. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * The package's own `proto/` directory (packed with it: the plugin runs from its `dist/`, one
 * level down); `ENGINEGATE_PROTO_DIR` overrides it.
 */
export function defaultProtoDir(): string {
  const fromEnv = process.env.ENGINEGATE_PROTO_DIR;
  if (fromEnv) return resolve(fromEnv);
  return fileURLToPath(new URL('../proto/', import.meta.url));
}

export interface ContainerdProtos {
  /** Service constructors, e.g. `services.containerd.services.tasks.v1.Tasks`. */
  services: grpc.GrpcObject;
  /** Decodes a `google.protobuf.Any` payload whose type this subset knows; undefined otherwise. */
  decodeAny(typeUrl: string, value: Uint8Array): Record<string, unknown> | undefined;
}

const loaded = new Map<string, ContainerdProtos>();

/** Loads (once per directory) the containerd subset: ~50 ms, so it is cached. */
export function loadContainerdProtos(protoDir = defaultProtoDir()): ContainerdProtos {
  const cached = loaded.get(protoDir);
  if (cached) return cached;
  if (!existsSync(join(protoDir, SERVICE_FILES[0]!))) {
    throw new Error(`containerd proto files not found under ${protoDir}`);
  }
  const definition = protoLoader.loadSync(SERVICE_FILES, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir] });
  const services = grpc.loadPackageDefinition(definition);

  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(protoDir, target);
  root.loadSync(EVENT_FILES, { keepCase: true });
  root.resolveAll();

  const protos: ContainerdProtos = {
    services,
    decodeAny(typeUrl, value) {
      // containerd's type URLs are bare message names (`containerd.events.TaskExit`); others
      // carry a `type.googleapis.com/` style prefix.
      const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
      let type: protobuf.Type;
      try {
        type = root.lookupType(name);
      } catch {
        return undefined;
      }
      return type.toObject(type.decode(value), { longs: String, enums: String, defaults: true });
    },
  };
  loaded.set(protoDir, protos);
  return protos;
}
