#!/usr/bin/env bash
# Load the full real datasets of ../shared/data (2021-2023; see each folder's SOURCE.md for columns, units and
# time conventions) with `manage.py import_timeseries`. Idempotent (upserts). Zone series need nothing else;
# the site-bound ones go to the demo portfolio (`manage.py seed_demo`) unless SITE / PV_ARRAY are given.
#   data/import_shared.sh                      # zones + demo sites
#   SHARED=/path/to/data SITE=12 PV_ARRAY=7 data/import_shared.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SHARED=${SHARED:-../shared/data}
IMPORT="$PY manage.py import_timeseries --no-progress"
[ -d "$SHARED" ] || { echo "no $SHARED (set SHARED=...)"; exit 1; }

P=$SHARED/wholesale_prices_hourly
C=$SHARED/carbon_intensity_electricitymaps_hourly
W=$SHARED/weather_openmeteo_hourly
L=$SHARED/system_load_eia930_hourly
CARBON_MAPS=(--map ci_direct_gco2eq_per_kwh=carbon_intensity_g_per_kwh
             --map ci_lifecycle_gco2eq_per_kwh=carbon_intensity_g_per_kwh:lifecycle
             --map low_carbon_pct=low_carbon_pct --map renewable_pct=renewable_pct)
WEATHER_MAPS=(--map temperature_2m_c=temperature_c --map relative_humidity_2m_pct=relative_humidity_pct
              --map cloud_cover_pct=cloud_cover_pct --map wind_speed_10m_kmh=wind_speed_m_per_s/3.6)

# Prices: timestamp_utc = start of the delivery hour (UTC); currency per MWh as published.
$IMPORT "$P/caiso_np15_dam_hourly_2021_2023.csv"     --zone CAISO_NP15   --map price_usd_per_mwh=price --source "CAISO OASIS DAM LMP TH_NP15_GEN-APND via HPE green-dcc"
$IMPORT "$P/ercot_hb_hubavg_dam_hourly_2021_2023.csv" --zone ERCOT_HUB   --map price_usd_per_mwh=price --source "ERCOT DAM SPP HB_HUBAVG via HPE green-dcc"
$IMPORT "$P/pjm_dom_zone_rt_hourly_2021_2023.csv"    --zone PJM_DOM      --map price_usd_per_mwh=price --source "PJM RT hourly LMP DOM zone via HPE green-dcc"
$IMPORT "$P/nyiso_capitl_dam_hourly_2021_2023.csv"   --zone NYISO_CAPITL --map price_usd_per_mwh=price --source "NYISO DAM LBMP CAPITL via HPE green-dcc"
$IMPORT "$P/entsoe_de_lu_dam_hourly_2021_2023.csv"   --zone DE_LU        --map price_eur_per_mwh=price --source "DE-LU day-ahead (RTE eco2mix) via HPE green-dcc"

# Carbon intensity (Electricity Maps, ODbL): timestamp_utc = start of hour.
for pair in CAISO_NP15:us_cal_ciso ERCOT_HUB:us_tex_erco PJM_DOM:us_mida_pjm NYISO_CAPITL:us_ny_nyis DE_LU:de_lu; do
  $IMPORT "$C/${pair#*:}_2021_2023_hourly.csv" --zone "${pair%%:*}" "${CARBON_MAPS[@]}" --source "Electricity Maps data portal (ODbL)"
done

# Weather (Open-Meteo, CC BY 4.0) at the datacenter hub of each US zone; km/h -> m/s.
$IMPORT "$W/san_jose_ca_us-cal-ciso_hourly_2021_2023.csv"      --zone CAISO_NP15   "${WEATHER_MAPS[@]}" --source "Open-Meteo, San Jose CA"
$IMPORT "$W/dallas_tx_us-tex-erco_hourly_2021_2023.csv"        --zone ERCOT_HUB    "${WEATHER_MAPS[@]}" --source "Open-Meteo, Dallas TX"
$IMPORT "$W/philadelphia_pa_us-mida-pjm_hourly_2021_2023.csv"  --zone PJM_DOM      "${WEATHER_MAPS[@]}" --source "Open-Meteo, Philadelphia PA"
$IMPORT "$W/new_york_ny_us-ny-nyis_hourly_2021_2023.csv"       --zone NYISO_CAPITL "${WEATHER_MAPS[@]}" --source "Open-Meteo, New York NY"

# System load (EIA-930 via Ruggles et al., CC BY 4.0): interval_start_utc; MW -> kW. The cleaned series: the raw
# EIA columns contain impossible values (e.g. PJM 2.1e9 MW on 2021-10-18), which the importer refuses.
$IMPORT "$L/ciso_demand_hourly_2021_2023.csv" --zone CAISO_NP15   --time-column interval_start_utc --map demand_mw_cleaned_sum_of_subregions=system_load_kw*1000 --source "EIA-930 CISO, cleaned sum of subregions"
$IMPORT "$L/erco_demand_hourly_2021_2023.csv" --zone ERCOT_HUB    --time-column interval_start_utc --map demand_mw_cleaned_sum_of_subregions=system_load_kw*1000 --source "EIA-930 ERCO, cleaned sum of weather zones"
$IMPORT "$L/pjm_demand_hourly_2021_2023.csv"  --zone PJM_DOM      --time-column interval_start_utc --map dom_zone_demand_mw_cleaned=system_load_kw*1000 --source "EIA-930 PJM DOM zone, cleaned"
$IMPORT "$L/nyis_demand_hourly_2021_2023.csv" --zone NYISO_CAPITL --time-column interval_start_utc --map zone_f_capitl_demand_mw_cleaned=system_load_kw*1000 --source "EIA-930 NYISO zone F, cleaned"

# Site-bound: Google PDU power traces (fraction of rating; long file, one PDU per pass) on a site.
SITE=${SITE:-Ashburn DC1}
D=$SHARED/datacenter_power_and_utilization/google_powerdata2019_cella_pdu6-8_5min.csv
for pdu in pdu6 pdu7 pdu8; do
  $IMPORT "$D" --site "$SITE" --where pdu=$pdu --map "measured_power_util=utilization_fraction:google-cella-$pdu" --source "Google powerdata_2019 cell a (CC BY 4.0)"
done

# PV (proxies: measured in Golden CO / US West, not at the site) on a PV array (default: demo San Jose rooftop).
PV_ARRAY=${PV_ARRAY:-$($PY manage.py shell -v0 -c "from apps.assets.models import PVArray; a = PVArray.objects.filter(site__name='San Jose DC1').first(); print(a.pk if a else '')")}
if [ -n "$PV_ARRAY" ]; then
  V=$SHARED/pv_measured
  $IMPORT "$V/nrel_pvdaq15_poa_irradiance_15min_2019_2022.csv" --pv-array "$PV_ARRAY" --map poa_irradiance_w_m2=poa_irradiance_w_per_m2:nrel-pvdaq15-golden-co --source "NREL PVDAQ system 15 POA (Golden CO)"
  # ac_power is W (0-3368 for a ~3 kW system): W -> kW; DST-corrected UTC times, empty for ~20 DST hours.
  $IMPORT "$V/nrel_serf_east_pvdaq50_ac_power_15min_2011_2012.csv" --pv-array "$PV_ARRAY" --time-column timestamp_utc_dst_corrected --skip-rows-without-time --map "ac_power=pv_power_kw:nrel-serf-east-pvdaq50/1000" --source "NREL PVDAQ system 50 AC power (Golden CO)"
  # three -1000000.0 sentinels (no reading) in 2016 are skipped as missing values
  $IMPORT "$V/sunpower_residential_TAEFC1044741_ac_power_5min.csv" --pv-array "$PV_ARRAY" --na-value=-1000000.0 --map "ac_power_kw=pv_power_kw:sunpower-TAEFC1044741" --source "SunPower residential 7 kW AC (US West), slacgismo/solar-data-tools (BSD-2)"
else
  echo "PV datasets skipped: no PV_ARRAY and no demo San Jose rooftop array."
fi
