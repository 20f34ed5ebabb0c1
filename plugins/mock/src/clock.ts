// The clock lives in plugin-api now (every plugin's scope has one); kept here for the mock's users.
export { systemClock, type Clock } from '@enginegate/plugin-api';
