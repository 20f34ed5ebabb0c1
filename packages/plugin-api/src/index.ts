export * from './types.js';
export * from './errors.js';
export * from './container-ref.js';
export * from './cursor.js';
export * from './time.js';
export * from './line-splitter.js';
export * from './docker-frame-demuxer.js';
export * from './timestamp-parser.js';
