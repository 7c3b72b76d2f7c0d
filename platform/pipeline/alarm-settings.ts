import { integer } from '../config/settings';

/** Minutes without data, once data has flowed, before a no-data alarm fires: the one default of every pipeline. */
export const DEFAULT_NO_DATA_MINUTES = 60;

/**
 * The `noDataMinutes` setting, the same in every pipeline's section (and `validator.noDataMinutes`): minutes without
 * data, once data has flowed, before the pipeline's no-data alarm fires ("No data" in its runbook).
 */
export const noDataMinutesSetting = () => integer(5, 1440).default(DEFAULT_NO_DATA_MINUTES);
