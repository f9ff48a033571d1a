"""Static catalogue behind the sample generator: real automotive towns (plants), market cities and
vehicle families. Coordinates are the towns' centres (WGS84, rounded). Plant names are descriptive,
not company claims. Only countries and grid subregions that ``features.factors.reference_factors``
covers with a grid factor are used (a test checks this).
"""

from __future__ import annotations

# land group: road and rail lanes only run inside one group (GB reaches the continent by the tunnel)
LAND_GROUP = {
    "DE": "EU", "FR": "EU", "ES": "EU", "CZ": "EU", "HU": "EU", "SK": "EU", "PL": "EU", "GB": "EU", "IT": "EU",
    "SE": "EU", "NL": "EU", "BE": "EU", "AT": "EU", "PT": "EU", "DK": "EU", "NO": "EU", "RO": "EU", "IE": "IE",
    "US": "NA", "MX": "NA", "CA": "NA", "CN": "CN", "JP": "JP", "KR": "KR", "AU": "AU",
}
# sales region: products have a home region whose plants build them and whose markets buy most of them
REGION = {c: ("NA" if g == "NA" else "CN" if g == "CN" else "EU" if g in ("EU", "IE") else "ROW")
          for c, g in LAND_GROUP.items()}

# relative manufacturing cost index (labour, overheads) by plant country
COST_INDEX = {"DE": 1.15, "FR": 1.10, "GB": 1.05, "ES": 0.95, "CZ": 0.86, "HU": 0.83, "SK": 0.84,
              "PL": 0.85, "US": 1.06, "MX": 0.78, "CN": 0.80}

# unit each plant's meters report in, by country (accounting converts with pint)
ELECTRICITY_UNIT = {"DE": "MWh", "CZ": "MWh", "PL": "MWh", "US": "MWh", "CN": "MWh"}  # default kWh
GAS_UNIT = {"DE": "kWh", "FR": "kWh", "GB": "kWh", "ES": "m3", "CZ": "m3", "HU": "m3", "SK": "m3",
            "PL": "m3", "CN": "m3", "MX": "GJ", "US": "mmBtu"}
DIESEL_UNIT = {"US": "US_gallon"}  # default litre

# (code, town, country, grid_region, lat, lon, equity_share, operational_control, in_demo, bev_only)
PLANTS: list[tuple] = [
    ("DE_WOB", "Wolfsburg", "DE", None, 52.423, 10.787, 1.0, True, True, False),
    ("DE_ZWI", "Zwickau", "DE", None, 50.719, 12.496, 1.0, True, True, True),
    ("ES_MAR", "Martorell", "ES", None, 41.474, 1.931, 1.0, True, True, False),
    ("FR_DOU", "Douai", "FR", None, 50.371, 3.080, 1.0, True, True, True),
    ("CZ_MLB", "Mlada Boleslav", "CZ", None, 50.411, 14.903, 1.0, True, True, False),
    ("HU_GYR", "Gyor", "HU", None, 47.688, 17.650, 1.0, True, True, False),
    ("SK_BRA", "Bratislava", "SK", None, 48.149, 17.108, 0.75, True, True, False),
    ("PL_POZ", "Poznan", "PL", None, 52.406, 16.925, 1.0, True, True, False),
    ("GB_SUN", "Sunderland", "GB", None, 54.907, -1.384, 1.0, True, True, False),
    ("US_WPT", "West Point GA", "US", "SRSO", 32.878, -85.183, 1.0, True, True, False),
    ("US_TOL", "Toledo OH", "US", "RFCW", 41.653, -83.538, 1.0, True, True, False),
    ("MX_PUE", "Puebla", "MX", None, 19.041, -98.206, 1.0, True, True, False),
    ("CN_ANT", "Anting (Shanghai)", "CN", None, 31.296, 121.159, 0.5, False, True, False),
    ("CN_CHC", "Changchun", "CN", None, 43.817, 125.324, 0.4, False, True, False),
    # large only
    ("DE_ING", "Ingolstadt", "DE", None, 48.767, 11.426, 1.0, True, False, False),
    ("DE_SIN", "Sindelfingen", "DE", None, 48.713, 9.003, 1.0, True, False, False),
    ("DE_DGF", "Dingolfing", "DE", None, 48.630, 12.499, 1.0, True, False, False),
    ("DE_LEJ", "Leipzig", "DE", None, 51.340, 12.373, 1.0, True, False, True),
    ("DE_EMD", "Emden", "DE", None, 53.359, 7.206, 1.0, True, False, True),
    ("DE_RGB", "Regensburg", "DE", None, 49.013, 12.102, 1.0, True, False, False),
    ("DE_RAS", "Rastatt", "DE", None, 48.859, 8.203, 1.0, True, False, False),
    ("DE_EIS", "Eisenach", "DE", None, 50.981, 10.315, 1.0, True, False, False),
    ("DE_GRU", "Gruenheide", "DE", None, 52.393, 13.792, 1.0, True, False, True),
    ("FR_SOC", "Sochaux", "FR", None, 47.509, 6.829, 1.0, True, False, False),
    ("FR_FLI", "Flins-sur-Seine", "FR", None, 48.965, 1.874, 1.0, True, False, False),
    ("FR_MUL", "Mulhouse", "FR", None, 47.751, 7.336, 1.0, True, False, False),
    ("FR_REN", "Rennes", "FR", None, 48.117, -1.678, 1.0, True, False, False),
    ("ES_ALM", "Almussafes", "ES", None, 39.293, -0.414, 1.0, True, False, False),
    ("ES_PAM", "Pamplona", "ES", None, 42.813, -1.646, 1.0, True, False, False),
    ("ES_VGO", "Vigo", "ES", None, 42.241, -8.721, 1.0, True, False, False),
    ("ES_ZAZ", "Figueruelas", "ES", None, 41.767, -1.167, 1.0, True, False, False),
    ("CZ_KOL", "Kolin", "CZ", None, 50.028, 15.200, 1.0, True, False, False),
    ("CZ_NOS", "Nosovice", "CZ", None, 49.659, 18.428, 1.0, True, False, False),
    ("CZ_KVA", "Kvasiny", "CZ", None, 50.211, 16.267, 1.0, True, False, False),
    ("SK_TRN", "Trnava", "SK", None, 48.377, 17.587, 1.0, True, False, False),
    ("SK_ZIL", "Zilina", "SK", None, 49.223, 18.739, 1.0, True, False, False),
    ("SK_NIT", "Nitra", "SK", None, 48.307, 18.086, 1.0, True, False, False),
    ("HU_KEC", "Kecskemet", "HU", None, 46.896, 19.690, 1.0, True, False, False),
    ("HU_DEB", "Debrecen", "HU", None, 47.532, 21.627, 1.0, True, False, True),
    ("PL_GLI", "Gliwice", "PL", None, 50.295, 18.671, 1.0, True, False, False),
    ("PL_TYC", "Tychy", "PL", None, 50.122, 18.997, 1.0, True, False, False),
    ("GB_BUR", "Burnaston", "GB", None, 52.879, -1.580, 1.0, True, False, False),
    ("GB_SOL", "Solihull", "GB", None, 52.412, -1.778, 1.0, True, False, False),
    ("GB_OXF", "Oxford Cowley", "GB", None, 51.752, -1.258, 1.0, True, False, True),
    ("US_MGM", "Montgomery AL", "US", "SRSO", 32.367, -86.300, 1.0, True, False, False),
    ("US_VAN", "Vance AL", "US", "SRSO", 33.174, -87.234, 1.0, True, False, False),
    ("US_LOR", "Lordstown OH", "US", "RFCW", 41.166, -80.857, 1.0, True, False, True),
    ("US_MAR", "Marysville OH", "US", "RFCW", 40.236, -83.367, 1.0, True, False, False),
    ("US_FWA", "Fort Wayne IN", "US", "RFCW", 41.079, -85.139, 1.0, True, False, False),
    ("MX_SIL", "Silao", "MX", None, 20.944, -101.427, 1.0, True, False, False),
    ("MX_AGS", "Aguascalientes", "MX", None, 21.885, -102.292, 0.5, False, False, False),
    ("MX_HMO", "Hermosillo", "MX", None, 29.073, -110.956, 1.0, True, False, False),
    ("CN_FOS", "Foshan", "CN", None, 23.022, 113.121, 0.4, False, False, False),
    ("CN_SHY", "Shenyang", "CN", None, 41.806, 123.432, 0.5, False, False, False),
    ("CN_TSN", "Tianjin", "CN", None, 39.343, 117.362, 0.4, False, False, False),
    ("CN_NGB", "Ningbo", "CN", None, 29.868, 121.544, 0.5, False, False, True),
    ("CN_CTU", "Chengdu", "CN", None, 30.573, 104.067, 0.4, False, False, False),
]

# (code, city, country, lat, lon, size, in_demo); size ~ relative new-car registrations of the catchment
MARKETS: list[tuple] = [
    ("DE_FRA", "Germany (Frankfurt hub)", "DE", 50.110, 8.682, 2.8, True),
    ("FR_PAR", "France (Paris hub)", "FR", 48.857, 2.352, 1.8, True),
    ("GB_LON", "United Kingdom (London hub)", "GB", 51.507, -0.128, 1.9, True),
    ("IT_MIL", "Italy (Milan hub)", "IT", 45.464, 9.190, 1.6, True),
    ("ES_MAD", "Spain (Madrid hub)", "ES", 40.417, -3.704, 1.0, True),
    ("PL_WAW", "Poland (Warsaw hub)", "PL", 52.230, 21.012, 0.55, True),
    ("SE_STO", "Sweden (Stockholm hub)", "SE", 59.329, 18.069, 0.3, True),
    ("NL_AMS", "Netherlands (Amsterdam hub)", "NL", 52.368, 4.904, 0.4, True),
    ("US_NYC", "US East (New York hub)", "US", 40.713, -74.006, 4.5, True),
    ("US_LAX", "US West (Los Angeles hub)", "US", 34.052, -118.244, 3.5, True),
    ("MX_MEX", "Mexico (Mexico City hub)", "MX", 19.433, -99.133, 0.9, True),
    ("CN_SHA", "China East (Shanghai hub)", "CN", 31.230, 121.474, 6.0, True),
    ("CN_CAN", "China South (Guangzhou hub)", "CN", 23.129, 113.264, 4.5, True),
    # large only
    ("DE_HAM", "Hamburg", "DE", 53.551, 9.994, 0.8, False),
    ("DE_MUC", "Munich", "DE", 48.137, 11.576, 0.9, False),
    ("DE_BER", "Berlin", "DE", 52.520, 13.405, 0.8, False),
    ("FR_LYS", "Lyon", "FR", 45.764, 4.836, 0.6, False),
    ("FR_MRS", "Marseille", "FR", 43.296, 5.370, 0.5, False),
    ("GB_MAN", "Manchester", "GB", 53.481, -2.243, 0.6, False),
    ("IT_ROM", "Rome", "IT", 41.903, 12.496, 0.8, False),
    ("ES_BCN", "Barcelona", "ES", 41.385, 2.173, 0.5, False),
    ("PT_LIS", "Lisbon", "PT", 38.722, -9.139, 0.3, False),
    ("BE_BRU", "Brussels", "BE", 50.850, 4.352, 0.5, False),
    ("AT_VIE", "Vienna", "AT", 48.208, 16.373, 0.35, False),
    ("DK_CPH", "Copenhagen", "DK", 55.676, 12.568, 0.2, False),
    ("NO_OSL", "Oslo", "NO", 59.913, 10.752, 0.2, False),
    ("RO_BUH", "Bucharest", "RO", 44.426, 26.102, 0.2, False),
    ("CZ_PRG", "Prague", "CZ", 50.075, 14.438, 0.3, False),
    ("HU_BUD", "Budapest", "HU", 47.498, 19.040, 0.2, False),
    ("IE_DUB", "Dublin", "IE", 53.350, -6.260, 0.15, False),
    ("US_ATL", "Atlanta", "US", 33.749, -84.388, 1.6, False),
    ("US_CHI", "Chicago", "US", 41.878, -87.630, 1.8, False),
    ("US_DFW", "Dallas", "US", 32.777, -96.797, 1.8, False),
    ("US_SEA", "Seattle", "US", 47.606, -122.332, 0.8, False),
    ("US_MIA", "Miami", "US", 25.762, -80.192, 1.0, False),
    ("CA_YYZ", "Toronto", "CA", 43.653, -79.383, 0.9, False),
    ("MX_MTY", "Monterrey", "MX", 25.686, -100.316, 0.4, False),
    ("CN_PEK", "Beijing", "CN", 39.904, 116.407, 3.5, False),
    ("CN_CTU", "Chengdu", "CN", 30.573, 104.067, 2.0, False),
    ("CN_WUH", "Wuhan", "CN", 30.593, 114.305, 1.5, False),
    ("JP_TYO", "Tokyo", "JP", 35.676, 139.650, 0.6, False),
    ("KR_SEL", "Seoul", "KR", 37.567, 126.978, 0.4, False),
    ("AU_SYD", "Sydney", "AU", -33.869, 151.209, 0.5, False),
]

# vehicle families: (model, segment, ICE weight t, ICE price EUR, powertrains offered)
FAMILIES: list[tuple] = [
    ("Lumen", "A", 1.00, 17_500, ("BEV", "ICE")),
    ("Vela", "B", 1.18, 21_500, ("BEV", "PHEV", "ICE")),
    ("Orbit", "C", 1.38, 29_000, ("BEV", "PHEV", "ICE")),
    ("Strada", "D", 1.58, 41_000, ("BEV", "PHEV", "ICE")),
    ("Regent", "E", 1.85, 60_000, ("BEV", "PHEV", "ICE")),
    ("Terra", "C-SUV", 1.55, 33_500, ("BEV", "PHEV", "ICE")),
    ("Ridge", "D-SUV", 1.88, 48_000, ("BEV", "PHEV", "ICE")),
    ("Summit", "E-SUV", 2.30, 78_000, ("BEV", "PHEV")),
    ("Cargo", "LCV", 2.05, 37_000, ("BEV", "ICE")),
    ("Atlas", "Pickup", 2.35, 46_000, ("BEV", "ICE")),
]
WEIGHT_FACTOR = {"BEV": 1.27, "PHEV": 1.15, "ICE": 1.0}
PRICE_FACTOR = {"BEV": 1.22, "PHEV": 1.16, "ICE": 1.0}
