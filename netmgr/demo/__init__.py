"""``netmgr demo``: a live demo regency (Kabupaten Kotawaringin Timur) whose devices answer on loopback.

catalog (the data) → seed (database rows) and snmpdata (snmpsim recordings) → runner starts the
processes under the supervisor: snmpsim, SSH simulators, InfluxDB, the web app and a Celery worker.
"""
