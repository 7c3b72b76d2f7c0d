// application.ts still imports the provider type from here; the provider is platform/functions' HandlerProvider.
export { HandlerProvider } from '../../../platform/functions';
