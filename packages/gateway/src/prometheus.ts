// prom-client's Registry, Counter and Gauge, required from their own files: its index also loads
// the Histogram, Summary, Pushgateway (http, https), cluster aggregation and default-metrics
// modules, none of which the gateway uses (importing the index: ~70 ms of every start-up;
// these three files: ~5 ms). prom-client 15 has no `exports` map, so the files are public paths.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
export type Registry = PromClient.Registry;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
