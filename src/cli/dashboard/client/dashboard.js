// The dashboard's only script: follow the page's event stream (the server sends each section as HTML, so
// the page is rendered in one place) and send the buttons' actions after a confirmation.
'use strict'

function notice(text, ok) {
  const el = document.getElementById('notice')
  el.textContent = text
  el.className = ok ? 'ok' : 'refused'
}

function follow(path) {
  const status = document.getElementById('live')
  const source = new EventSource(path)
  source.onopen = () => { status.textContent = 'live'; status.className = 'live on' }
  source.onerror = () => { status.textContent = 'reconnecting…'; status.className = 'live' }
  source.addEventListener('sections', e => {
    const sections = JSON.parse(e.data)
    for (const [id, html] of Object.entries(sections)) {
      const el = document.getElementById(id)
      if (el && el.innerHTML !== html) el.innerHTML = html
    }
  })
  source.addEventListener('gone', e => { notice(JSON.parse(e.data).message, false); source.close() })
  source.addEventListener('refused', e => { notice(JSON.parse(e.data).message, false); source.close() })
}

// The confirmation: a modal <dialog> (not window.confirm, which blocks the page); promoting without the
// analysis needs its box ticked as well. Each answer is taken as its dialog closes (the form's submit, or
// Escape's cancel): Chromium fires `close` at the next animation frame, which can come after the next
// question opened, and would answer that one with this one's button.
let answer = null

function settle(yes) {
  const resolve = answer
  answer = null
  resolve?.(yes)
}

document.addEventListener('submit', e => { if (e.target.closest('#confirm')) settle(e.submitter?.value === 'yes') })
// cancel and close do not bubble; a close with the dialog open again belongs to an earlier question.
document.addEventListener('cancel', e => { if (e.target.id === 'confirm') settle(false) }, true)
document.addEventListener('close', e => { if (e.target.id === 'confirm' && !e.target.open) settle(false) }, true)

function ask(button) {
  const dialog = document.getElementById('confirm')
  const full = button.dataset.action === 'promote-full'
  const check = document.getElementById('confirm-check')
  const yes = document.getElementById('confirm-yes')
  document.getElementById('confirm-text').textContent = button.dataset.confirm
  document.getElementById('confirm-full').hidden = !full
  check.checked = false
  yes.disabled = full
  check.onchange = () => { yes.disabled = full && !check.checked }
  settle(false)
  return new Promise(resolve => {
    answer = resolve
    dialog.showModal()
  })
}

async function act(button) {
  if (!await ask(button)) return
  button.disabled = true
  try {
    const response = await fetch(button.dataset.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    const body = await response.json()
    if (response.ok) notice(body.message, true)
    else notice(`${response.status === 403 ? 'Refused' : 'Not done'}: ${body.error}`, false)
  } catch (e) {
    notice(`Not done: ${e.message}`, false)
  } finally {
    button.disabled = false
  }
}

document.addEventListener('click', e => {
  const button = e.target.closest('button[data-action]')
  if (button && !button.disabled) void act(button)
})

document.addEventListener('DOMContentLoaded', () => {
  const path = document.body.dataset.live
  if (path) follow(path)
})
