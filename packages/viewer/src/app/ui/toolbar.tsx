import type { Ref } from 'preact';
import type { ParsedFilter } from '../filter.js';

export const CAP_CHOICES = [10_000, 50_000, 100_000, 250_000, 500_000];

export interface ToolbarProps {
  title: string;
  filterText: string;
  filter: ParsedFilter;
  onFilter: (text: string) => void;
  filterRef: Ref<HTMLInputElement>;
  showTime: boolean;
  onShowTime: (show: boolean) => void;
  cap: number;
  onCap: (cap: number) => void;
  onDownload: () => void;
  canDownload: boolean;
}

export function Toolbar(props: ToolbarProps) {
  const { filter } = props;
  const caps = CAP_CHOICES.includes(props.cap) ? CAP_CHOICES : [...CAP_CHOICES, props.cap].sort((a, b) => a - b);
  return (
    <div class="toolbar" role="toolbar" aria-label="Log tools">
      <h2 class="log-title" title={props.title}>
        {props.title}
      </h2>
      <div class={`filter${filter.kind === 'invalid' ? ' invalid' : ''}`}>
        <label for="log-filter">Filter</label>
        <input
          id="log-filter"
          ref={props.filterRef}
          type="search"
          placeholder="text or /regex/"
          spellcheck={false}
          autocomplete="off"
          value={props.filterText}
          aria-invalid={filter.kind === 'invalid'}
          aria-describedby="filter-status"
          onInput={(event) => props.onFilter(event.currentTarget.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape') props.onFilter('');
          }}
        />
        <span id="filter-status" class="filter-status" aria-live="polite">
          {filter.kind === 'invalid' ? filter.message : ''}
        </span>
      </div>
      <label class="toggle">
        <input
          type="checkbox"
          checked={props.showTime}
          onChange={(event) => props.onShowTime(event.currentTarget.checked)}
        />
        Timestamps
      </label>
      <label class="cap">
        Keep
        <select value={String(props.cap)} onChange={(event) => props.onCap(Number(event.currentTarget.value))}>
          {caps.map((cap) => (
            <option key={cap} value={String(cap)}>
              {cap.toLocaleString('en')} lines
            </option>
          ))}
        </select>
      </label>
      <button type="button" class="download" onClick={props.onDownload} disabled={!props.canDownload}>
        Download
      </button>
    </div>
  );
}
