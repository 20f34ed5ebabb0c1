import type { PluginSettingsSchema } from '@enginegate/plugin-api';

/** The mock plugin's settings, validated (and listed by `enginegate serve --help`) by the gateway. */
export const MOCK_SETTINGS = {
  type: 'object',
  properties: {
    builtinContainers: {
      type: 'boolean',
      default: true,
      description: 'run mock-chatty, mock-tty, mock-bytes and mock-exit; false starts it empty',
    },
    demoProject: {
      type: 'boolean',
      description: "run Compose project 'demo' (default: as builtinContainers)",
    },
  },
  additionalProperties: false,
} satisfies PluginSettingsSchema;
