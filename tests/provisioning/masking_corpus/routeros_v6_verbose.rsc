# nov/02/2026 08:15:42 by RouterOS 6.49.10
# software id = 7K4D-QZ1P
#
# model = RB951Ui-2HnD
# serial number = 6F2A07C1B3E9
/interface bridge
add admin-mac=6C:3B:6B:11:22:33 auto-mac=no comment=defconf name=bridge-lan
/interface ethernet
set [ find default-name=ether1 ] comment="uplink Telkom"
/interface lte
set [ find ] mac-address=AC:FF:FF:00:00:01 name=lte1 pin=4827
/interface pppoe-client
add add-default-route=yes disabled=no interface=ether1 name=pppoe-telkom \
    password=Ind1Home-9821 use-peer-dns=yes user=1122334455@telkom.net
/interface l2tp-client
add connect-to=203.0.113.10 disabled=no ipsec-secret=L2tp-Ipsec-7781 name=\
    l2tp-kominfo password=L2tp-Pass-55 use-ipsec=yes user=desa-sukamaju
/interface wireless security-profiles
set [ find default=yes ] supplicant-identity=MikroTik
add authentication-types=wpa2-psk eap-methods="" management-protection=\
    allowed mode=dynamic-keys name=profile-wifi-desa supplicant-identity="" \
    wpa-pre-shared-key=WifiDesa-2026 wpa2-pre-shared-key=\
    WifiDesa-2026
add authentication-types=wpa2-psk mode=dynamic-keys name=profile-kantor \
    supplicant-identity="" wpa2-pre-shared-key="Kantor Desa 88 Aman"
add mode=static-keys-required name=profile-wep static-algo-0=104bit-wep \
    static-key-0=0A1B2C3D4E5F60718293A4B5C6 supplicant-identity=""
/interface wireless
set [ find default-name=wlan1 ] band=2ghz-b/g/n disabled=no mode=ap-bridge \
    security-profile=profile-wifi-desa ssid="WiFi Desa Sukamaju"
/interface wireless access-list
add mac-address=00:11:22:33:44:55 private-pre-shared-key=Tamu-Pribadi-01
/ip hotspot profile
add dns-name=login.desa.id hotspot-address=10.5.50.1 login-by=http-chap,http-pap \
    name=hsprof1 use-radius=yes
/ip hotspot user
add name=petugas password=Petugas#2026 profile=default
add name=tamu password="tamu desa" profile=default
/ip ipsec peer
add address=198.51.100.7/32 exchange-mode=main-l2tp generate-policy=port-strict \
    secret=Ipsec-Peer-Secret-42
/ppp secret
add local-address=10.10.10.1 name=kades password=Kades-Ppp-77 remote-address=\
    10.10.10.2 service=pptp
/radius
add address=10.0.0.2 secret=rad-s3cret-desa service=hotspot,ppp timeout=3s
/snmp community
set [ find default=yes ] addresses=10.0.0.0/24 name=k0mun1tas-desa
/snmp
set contact=noc@kominfo.example enabled=yes location="Kantor Desa" \
    trap-community=k0mun1tas-desa trap-target=10.0.0.5 trap-version=2
/system identity
set name=rtr-desa-sukamaju
/tool e-mail
set address=smtp.example.id from=noc@kominfo.example password=\
    Smtp-Mail-Pass-3 port=587 start-tls=yes user=noc
/tool romon
set enabled=yes secrets=Romon-Rahasia-1,Romon-Rahasia-2
/tool user-manager customer
set admin access=\
    own-routers,own-users,own-profiles,own-limits,config-payment-gw \
    password=Um-Admin-Pass-9
/tool user-manager router
add customer=admin ip-address=127.0.0.1 log=auth-fail name=hotspot-lokal \
    shared-secret=Um-Router-Shared-5
/tool user-manager user
add customer=admin disabled=no password=Um-User-Pass-6 shared-users=1 \
    username=warga01
