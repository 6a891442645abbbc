// fourhour: progressive enhancement only. Every page works without this file: tables are
// complete, filters are forms the server answers. With it, tables sort when a header is
// pressed and filters apply at once. No inline scripts anywhere (the CSP forbids them).

document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('nhsuk-frontend-supported')
}

import('./vendor/nhsuk-frontend.min.js')
  .then((nhsuk) => nhsuk.initAll())
  .catch(() => {}) // the design system's scripts are optional (served by `make assets`)

const NUMERIC = new Set(['pct', 'count', 'change', 'gbp', 'number'])

function cellValue (row, index, numeric) {
  const cell = row.cells[index]
  const raw = cell ? cell.getAttribute('data-fh-value') : ''
  if (raw === null || raw === '') return null
  if (!numeric) return raw.toLowerCase()
  const n = Number(raw)
  return Number.isNaN(n) ? null : n
}

function sortTable (table, index, direction) {
  const header = table.tHead.rows[0].cells[index]
  const numeric = NUMERIC.has(header.getAttribute('data-fh-kind'))
  const body = table.tBodies[0]
  const rows = Array.from(body.rows)
  rows.sort((a, b) => {
    const x = cellValue(a, index, numeric)
    const y = cellValue(b, index, numeric)
    if (x === null && y === null) return 0
    if (x === null) return 1 // missing values last, whichever the direction
    if (y === null) return -1
    const order = x < y ? -1 : x > y ? 1 : 0
    return direction === 'ascending' ? order : -order
  })
  rows.forEach((row) => body.appendChild(row))
  Array.from(table.tHead.rows[0].cells).forEach((th, i) => {
    if (i === index) {
      th.setAttribute('aria-sort', direction)
    } else {
      th.removeAttribute('aria-sort')
    }
  })
}

function makeSortable (table) {
  Array.from(table.tHead.rows[0].cells).forEach((th, index) => {
    const button = document.createElement('button')
    button.type = 'button'
    button.className = 'fh-sort'
    button.textContent = th.textContent
    button.setAttribute('data-fh-sort', th.getAttribute('data-fh-key'))
    th.textContent = ''
    th.appendChild(button)
    button.addEventListener('click', () => {
      const now = th.getAttribute('aria-sort')
      sortTable(table, index, now === 'ascending' ? 'descending' : 'ascending')
    })
  })
}

function showCount (box, shown, total) {
  if (box) box.textContent = shown === total ? `Showing all ${total}` : `Showing ${shown} of ${total}`
}

function applyFilters (table, criteria) {
  const rows = Array.from(table.tBodies[0].rows).filter((r) => r.cells.length > 1)
  let shown = 0
  rows.forEach((row) => {
    const keep = criteria.every(([attr, value]) => !value || row.getAttribute(attr) === value)
    row.hidden = !keep
    if (keep) shown += 1
  })
  return [shown, rows.length]
}

// Filters above a table (the choices are the table's own values).
function enhanceTableFilters (wrapper) {
  const box = wrapper.querySelector('[data-fh-filters]')
  const table = wrapper.querySelector('table')
  if (!box || !table) return
  box.hidden = false
  const selects = Array.from(box.querySelectorAll('select[data-fh-column]'))
  const update = () => {
    const criteria = selects.map((s) => ['data-fh-' + s.getAttribute('data-fh-column').replaceAll('_', '-'), s.value])
    const [shown, total] = applyFilters(table, criteria)
    showCount(box.querySelector('[data-fh-count]'), shown, total)
  }
  selects.forEach((s) => s.addEventListener('change', update))
}

// The league table's region and system form: filters at once, and keeps the URL and the
// CSV download in step, so that a download gives the rows shown.
function enhanceFilterForm (form) {
  const table = document.getElementById('table-' + form.getAttribute('data-fh-filter-form'))
  if (!table) return
  const selects = Array.from(form.querySelectorAll('select[data-fh-column]'))
  const submit = form.querySelector('[data-fh-submit]')
  if (submit) submit.hidden = true
  const update = () => {
    const criteria = selects.map((s) => {
      const option = s.options[s.selectedIndex]
      return ['data-fh-' + s.getAttribute('data-fh-column'), s.value ? option.getAttribute('data-fh-text') : '']
    })
    const [shown, total] = applyFilters(table, criteria)
    showCount(form.querySelector('[data-fh-count]'), shown, total)
    const url = new URL(window.location.href)
    selects.forEach((s) => {
      if (s.value) url.searchParams.set(s.name, s.value)
      else url.searchParams.delete(s.name)
    })
    url.searchParams.delete('download')
    window.history.replaceState(null, '', url)
    const link = table.closest('.fh-table').querySelector('a.fh-download')
    if (link) {
      const csv = new URL(url)
      csv.searchParams.set('download', form.getAttribute('data-fh-filter-form'))
      link.href = csv.pathname + csv.search
    }
  }
  selects.forEach((s) => s.addEventListener('change', update))
}

document.querySelectorAll('table[data-fh-sortable]').forEach(makeSortable)
document.querySelectorAll('.fh-table').forEach(enhanceTableFilters)
document.querySelectorAll('form[data-fh-filter-form]').forEach(enhanceFilterForm)
