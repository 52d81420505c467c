# 2026-11-02 10:22:31 by RouterOS 7.16.1
# software id = QX2L-8F3M
#
# model = C53UiG+5HPaxD2HPaxD
# serial number = HG409A1B2C3
/interface bridge
add admin-mac=48:A9:8A:10:20:30 auto-mac=no comment=defconf name=bridge
/interface lte
set [ find default-name=lte1 ] allow-roaming=no band="" pin=9051
/interface wireguard
add listen-port=13231 mtu=1420 name=wg-kominfo private-key=\
    "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
/interface wifi security
add authentication-types=wpa2-psk,wpa3-psk disabled=no name=sec-warga \
    passphrase="Hotspot Warga 2026!" wps=disable
add authentication-types=wpa2-eap disabled=no eap-methods=peap \
    eap-password=Eap-Pegawai-77 eap-username=ap-balai name=sec-pegawai
/interface wifi
set [ find default-name=wifi1 ] channel.band=5ghz-ax channel.width=20/40/80mhz \
    configuration.mode=ap configuration.ssid="WiFi Balai Desa" disabled=no \
    security=sec-warga
set [ find default-name=wifi2 ] channel.band=2ghz-ax configuration.mode=ap \
    configuration.ssid="Balai Desa Staf" disabled=no \
    security.authentication-types=wpa2-psk security.passphrase=\
    Staf-Balai-5521
/interface wifi access-list
add action=accept mac-address=AA:BB:CC:00:11:22 passphrase=Tablet-Kades-3
/interface wireguard peers
add allowed-address=10.99.0.2/32 comment="laptop camat" interface=wg-kominfo \
    preshared-key="FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=" \
    public-key="xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
add allowed-address=10.99.0.3/32 comment=\
    "kunci lama FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=" interface=\
    wg-kominfo preshared-key="TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=" \
    private-key="gN65BkIKy1eCE9pP1wdc8ROUtkHLF2PfAqYdyYBz6EA=" public-key=\
    "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
/interface lte apn
add apn=internet authentication=chap name=apn-telkomsel password=\
    Apn-Tsel-Pass user=wap
/ip hotspot profile
add hotspot-address=10.5.50.1 login-by=http-chap,mac-cookie name=hsprof-balai \
    use-radius=yes
/ip hotspot user
add name=admin-balai password="Hotspot Warga 2026!" server=all
/ip ipsec profile
add dh-group=modp2048 enc-algorithm=aes-256 name=profile-kominfo
/ip ipsec peer
add address=203.0.113.50/32 exchange-mode=ike2 name=peer-kominfo profile=\
    profile-kominfo
/ip ipsec identity
add peer=peer-kominfo secret=Ike2-Identity-Kominfo-61
add auth-method=eap eap-methods=eap-mschapv2 password=Ike2-Eap-Pass-2 peer=\
    peer-kominfo username=balai-desa
/routing bgp connection
add as=65010 local.role=ebgp name=bgp-isp remote.address=192.0.2.1/32 \
    .as=64500 tcp-md5-key=Bgp-V7-Md5-Key
/routing ospf interface-template
add area=backbone auth=md5 auth-id=1 auth-key=Ospf-V7-Key interfaces=ether2
/radius
add address=10.30.0.2 secret="Radius Balai 99" service=hotspot,login
/snmp community
set [ find default=yes ] disabled=yes
add addresses=10.30.0.0/24 name=komunitas-balai
add addresses=10.30.0.5/32 authentication-password=Auth-V3-Balai \
    authentication-protocol=SHA1 encryption-password=Priv-V3-Balai \
    encryption-protocol=AES name=netmgr-snmpv3 security=private
/snmp
set enabled=yes trap-community=komunitas-balai trap-target=10.30.0.5 \
    trap-version=2
/system identity
set name=rtr-balai-desa
/system ntp key
add key=Ntp-Key-Balai-11 key-id=1
/system script
add dont-require-permissions=no name=impor-sertifikat owner=admin policy=\
    read,write,policy source="/certificate import file-name=vpn-balai.p12 passp\
    hrase=Cert-P12-Balai"
/tool romon
set enabled=yes secrets=Romon-V7-Balai
/user-manager
set enabled=yes
/user-manager router
add address=127.0.0.1 name=lokal shared-secret=Um7-Shared-Secret
/user-manager user
add group=default name=warga-001 otp-secret=JBSWY3DPEHPK3PXP password=\
    Um7-Warga-001
