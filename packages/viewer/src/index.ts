export {
  loadViewerAssets,
  VIEWER_SECURITY_HEADERS,
  VIEWER_CONTENT_SECURITY_POLICY,
  type ViewerAsset,
  type ViewerAssets,
} from './viewer-assets.js';
