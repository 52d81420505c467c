"""SNMP collectors: discover devices, poll counters, turn them into rates and availability.

Data flows one way: schedule → SNMP → decode → rates → InfluxDB (spooled while it is away) and rollups.
"""
