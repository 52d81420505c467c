/* The monitoring page's site map: Leaflet with tiles from NETMGR_MAP__TILE_URL, markers coloured by status with
   labels, clustered where sites overlap, sites in trouble drawn on top; a click opens the site.
   The server draws the same sites on a plain coordinate canvas (#site-map-canvas): it stays when there is no
   JavaScript, no tile URL, or when the tiles cannot be loaded (an offline regency). */
(function () {
  "use strict";
  var box = document.getElementById("site-map");
  var dataNode = document.getElementById("site-map-data");
  if (!box || !dataNode || !window.L) { return; }
  var data = JSON.parse(dataNode.textContent);
  if (!data.tiles.url || !data.sites.length) { return; }  // no tile server set: keep the canvas
  var holder = document.getElementById("site-map-tiles");
  var canvas = document.getElementById("site-map-canvas");
  var offline = document.getElementById("site-map-offline");
  var RANK = {up: 0, unknown: 1, partial: 2, link_down: 3, down: 4};

  function show(mode) {
    box.setAttribute("data-mode", mode);
    holder.hidden = mode !== "tiles";
    canvas.style.display = mode === "tiles" ? "none" : "";
    offline.hidden = mode !== "canvas-offline";
  }

  show("tiles");
  var map = L.map(holder, {scrollWheelZoom: false, zoomSnap: 0.5});
  var loaded = 0;
  var failed = 0;
  var tiles = L.tileLayer(data.tiles.url, {
    attribution: data.tiles.attribution, maxZoom: data.tiles.maxZoom,
    // the app sends "same-origin"; tile servers such as OpenStreetMap's want to know the site asking
    referrerPolicy: "strict-origin-when-cross-origin"
  });
  function giveUp() {
    if (loaded === 0 && box.getAttribute("data-mode") === "tiles") {
      map.remove();
      show("canvas-offline");
    }
  }
  tiles.on("tileload", function () { loaded += 1; });
  tiles.on("tileerror", function () { failed += 1; if (failed >= 2) { giveUp(); } });
  window.setTimeout(giveUp, 10000);  // nothing arrived at all (a tile server that never answers)
  tiles.addTo(map);

  function worst(markers) {
    var top = "up";
    markers.forEach(function (m) { if (RANK[m.options.health] > RANK[top]) { top = m.options.health; } });
    return top;
  }

  var group = L.markerClusterGroup({
    maxClusterRadius: 28, spiderfyOnMaxZoom: true, showCoverageOnHover: false,
    iconCreateFunction: function (cluster) {
      var markers = cluster.getAllChildMarkers();
      var health = worst(markers);
      cluster.options.zIndexOffset = RANK[health] * 1000;  // a cluster with a site down stays above the others
      var html = "<span>" + markers.length + "</span>";
      if (health !== "up") {  // name the site in trouble hidden in the cluster
        var named = markers.filter(function (m) { return m.options.health === health; });
        var label = document.createElement("b");
        label.className = "site-marker-label rank-" + RANK[health];
        label.textContent = named[0].options.alt + (named.length > 1 ? " +" + (named.length - 1) : "");
        html += label.outerHTML;
      }
      return L.divIcon({html: html, className: "site-cluster " + health, iconSize: L.point(34, 34)});
    }
  });
  var bounds = [];
  data.sites.forEach(function (s) {
    var label = document.createElement("span");
    label.className = "site-marker-label rank-" + s.layer;
    label.textContent = s.name;
    var icon = L.divIcon({
      className: "site-marker " + s.health, iconSize: L.point(18, 18), iconAnchor: L.point(9, 9),
      html: "<i></i>" + label.outerHTML
    });
    var marker = L.marker([s.lat, s.lon], {
      icon: icon, title: s.name + ": " + s.status, alt: s.name, health: s.health,
      zIndexOffset: s.layer * 1000, riseOnHover: true
    });
    marker.on("click", function () { window.location.href = s.url; });
    group.addLayer(marker);
    bounds.push([s.lat, s.lon]);
  });
  map.addLayer(group);
  map.fitBounds(bounds, {padding: [30, 30], maxZoom: 15});

  // Labels that would cover a marker or another label move to the marker's other side, or hide (an up site only:
  // its name stays in the tooltip and the list below); the site in worse health is placed first.
  function declutter() {
    var edge = holder.getBoundingClientRect();
    var icons = Array.prototype.map.call(holder.querySelectorAll(".leaflet-marker-icon"), function (el) {
      return {owner: el, rect: el.getBoundingClientRect()};
    });
    var labels = Array.prototype.slice.call(holder.querySelectorAll(".site-marker-label"));
    labels.sort(function (a, b) { return rankOf(b) - rankOf(a); });
    var kept = [];
    function overlaps(r, k) { return r.left < k.right && r.right > k.left && r.top < k.bottom && r.bottom > k.top; }
    function outside(el) {
      var r = el.getBoundingClientRect();
      return r.right > edge.right || r.left < edge.left;
    }
    function clashes(el) {
      var r = el.getBoundingClientRect();
      var owner = el.closest(".leaflet-marker-icon");
      return outside(el) || kept.some(function (k) { return overlaps(r, k); }) ||
        icons.some(function (i) { return i.owner !== owner && overlaps(r, i.rect); });
    }
    labels.forEach(function (el) {
      el.style.visibility = "";
      el.classList.remove("left");
      if (clashes(el)) {
        el.classList.add("left");
        if (clashes(el)) {
          if (rankOf(el) < 2) { el.style.visibility = "hidden"; return; }
          if (outside(el)) { el.classList.remove("left"); }  // a site in trouble keeps its name, inside the map
          if (outside(el)) { el.classList.add("left"); }
        }
      }
      kept.push(el.getBoundingClientRect());
    });
  }
  function rankOf(el) { var m = el.className.match(/rank-(\d)/); return m ? parseInt(m[1], 10) : 0; }
  map.on("zoomend moveend", function () { window.setTimeout(declutter, 0); });
  group.on("animationend spiderfied unspiderfied", declutter);
  declutter();
})();
