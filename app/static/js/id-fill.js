/* Progressive enhancement: fill 出生日期 and 性别 from a complete, valid 18-digit ID as it is typed.
   The server checks everything again and is the authority. */
(function () {
  var id = document.getElementById("f-id_number"), birth = document.getElementById("f-birth_date"), sex = document.getElementById("f-sex");
  if (!id) return;
  var W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], C = "10X98765432";
  id.addEventListener("input", function () {
    var v = id.value.replace(/\s/g, "").toUpperCase();
    if (!/^\d{17}[\dX]$/.test(v)) return;
    var s = 0; for (var i = 0; i < 17; i++) s += W[i] * +v[i];
    if (C[s % 11] !== v[17]) return;
    var d = v.substr(6, 4) + "-" + v.substr(10, 2) + "-" + v.substr(12, 2);
    if (birth && !isNaN(Date.parse(d))) birth.value = d;
    if (sex) sex.value = (+v[16] % 2) ? "1" : "2";
  });
})();
