// The CVSS calculators of the severity section (cases/calculator.py) work without this script: the
// radios are posted and the server writes the vector. With it, each choice writes the vector into
// the text field at once and shows its score; a pasted vector selects its radios. Scores come from
// the server (the same cvss package that scores what is saved), POSTed: a case's vector stays out
// of URLs while it is embargoed.
document.querySelectorAll(".cvss-calculator").forEach(function (calculator) {
  var prefix = calculator.getAttribute("data-cvss-prefix");
  var scoreUrl = calculator.getAttribute("data-score-url");
  var field = calculator.querySelector("input[data-cvss-vector]");
  var output = calculator.querySelector("output");
  var form = calculator.closest("form");
  var token = form ? form.querySelector("input[name=csrfmiddlewaretoken]") : null;
  var metrics = Array.prototype.map.call(calculator.querySelectorAll(".cvss-metric"), function (group) {
    return group.getAttribute("data-metric");
  });
  var pending = null;

  function values(vector) {
    var found = {};
    if (vector.indexOf(prefix + "/") !== 0) {
      return found;
    }
    vector.slice(prefix.length + 1).split("/").forEach(function (part) {
      var pair = part.split(":");
      if (pair.length === 2 && pair[0] && pair[1]) {
        found[pair[0]] = pair[1];
      }
    });
    return found;
  }

  function radio(metric, value) {
    return calculator.querySelector("input[type=radio][name='" + field.name + "-" + metric + "'][value='" + value + "']");
  }

  function chosen(metric) {
    var checked = calculator.querySelector("input[type=radio][name='" + field.name + "-" + metric + "']:checked");
    return checked ? checked.value : "";
  }

  function show(text) {
    output.textContent = text;
  }

  function score() {
    var vector = field.value.trim();
    if (!vector) {
      show("not scored yet");
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    fetch(scoreUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" },
      body: new URLSearchParams({ vector: vector }),
      signal: pending.signal,
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) { show(answer.text || answer.problem || "not scored"); })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          show("could not be scored now; it is scored when you save");
        }
      });
  }

  // Metrics beyond the base ones (threat, environmental) of the vector in the field are kept.
  function fromChoices() {
    var kept = values(field.value.trim());
    var parts = [prefix];
    var missing = metrics.filter(function (metric) { return !chosen(metric); });
    if (missing.length) {
      show("choose every base metric (" + missing.join(", ") + " missing)");
      return;
    }
    metrics.forEach(function (metric) { parts.push(metric + ":" + chosen(metric)); });
    Object.keys(kept).forEach(function (metric) {
      if (metrics.indexOf(metric) < 0) {
        parts.push(metric + ":" + kept[metric]);
      }
    });
    field.value = parts.join("/");
    score();
  }

  function fromText() {
    var found = values(field.value.trim());
    metrics.forEach(function (metric) {
      var match = found[metric] ? radio(metric, found[metric]) : null;
      if (match) {
        match.checked = true;
      } else {
        calculator.querySelectorAll("input[type=radio][name='" + field.name + "-" + metric + "']").forEach(function (input) {
          input.checked = false;
        });
      }
    });
    score();
  }

  calculator.querySelectorAll("input[type=radio]").forEach(function (input) {
    input.addEventListener("change", fromChoices);
  });
  field.addEventListener("input", fromText);
});
