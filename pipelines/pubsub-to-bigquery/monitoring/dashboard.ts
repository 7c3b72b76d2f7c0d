import { Construct } from 'constructs';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { ByAlert, Condition } from './conditions';
import { PubSubToBigQueryMonitoringProps } from './props';

/** The pipeline's dashboard: one chart per alerted metric, two per row, with the alert threshold drawn. */
export function buildDashboard(
  scope: Construct,
  props: PubSubToBigQueryMonitoringProps,
  conditions: ByAlert<Condition>,
): MonitoringDashboard {
  return new MonitoringDashboard(scope, 'Dashboard', {
    project: props.projectId,
    dashboardJson: JSON.stringify({
      displayName: `${props.pipelineName} (Pub/Sub → Dataflow → BigQuery)`,
      mosaicLayout: {
        columns: 12,
        tiles: Object.values(conditions).map((c: Condition, i) => ({
          xPos: (i % 2) * 6,
          yPos: Math.floor(i / 2) * 4,
          width: 6,
          height: 4,
          widget: {
            title: c.title,
            xyChart: {
              dataSets: [
                {
                  plotType: 'LINE',
                  timeSeriesQuery: c.promql
                    ? { prometheusQuery: c.promql.value }
                    : {
                        timeSeriesFilter: {
                          filter: c.filter!,
                          aggregation: { alignmentPeriod: c.alignmentPeriod, perSeriesAligner: c.aligner! },
                        },
                      },
                },
              ],
              thresholds: c.absent ? [] : [{ value: c.threshold, label: 'alert threshold' }],
            },
          },
        })),
      },
    }),
  });
}
