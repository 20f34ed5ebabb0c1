import { Counter, Gauge, type Registry } from './prometheus.js';
import type { PluginCounter, PluginGauge, PluginMetrics } from '@enginegate/plugin-api';

/** A metric name's characters, for a plugin name that may hold `-` and `.`. */
function metricWord(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * One plugin's view of the gateway's metrics registry: its metrics are named
 * `enginegate_plugin_<plugin>_<name>` so that they cannot clash with the gateway's or another plugin's.
 */
export function pluginMetrics(registry: Registry, pluginName: string): PluginMetrics {
  const fullName = (name: string) => `enginegate_plugin_${metricWord(pluginName)}_${metricWord(name)}`;
  return {
    counter(name, help, labelNames = []): PluginCounter {
      const existing = registry.getSingleMetric(fullName(name));
      const counter =
        existing instanceof Counter
          ? existing
          : new Counter({ name: fullName(name), help, labelNames, registers: [registry] });
      return { inc: (labels, value = 1) => (labels ? counter.inc(labels, value) : counter.inc(value)) };
    },
    gauge(name, help, labelNames = []): PluginGauge {
      const existing = registry.getSingleMetric(fullName(name));
      const gauge =
        existing instanceof Gauge
          ? existing
          : new Gauge({ name: fullName(name), help, labelNames, registers: [registry] });
      return { set: (value, labels) => (labels ? gauge.set(labels, value) : gauge.set(value)) };
    },
  };
}
