// awilix's container without its module loader: the package's main build also imports
// fast-glob (and micromatch, braces, …) for `loadModules`, which the gateway never calls
// (~70 ms of every start-up; this build: ~10 ms). `awilix/browser` is that same build without
// loadModules, and its types are the package's own.
export * from 'awilix/browser';
