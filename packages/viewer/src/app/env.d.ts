/** esbuild bundles imported stylesheets into viewer.css; the import itself has no value. */
declare module '*.css';
