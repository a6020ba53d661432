// One screen's rendering fault stays in that screen: a message and Retry
// instead of a blank console; the sidebar and the stream keep working.
import { Component, Fragment, type ErrorInfo, type ReactNode } from "react";

interface Props {
  /** Names the screen in the message ("Live", "Thresholds"…). */
  name?: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
  tries: number;
}

export class ScreenBoundary extends Component<Props, State> {
  state: State = { error: null, tries: 0 };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidCatch(error: unknown, info: ErrorInfo): void {
    // The console has no log shipping: the browser console keeps the detail.
    console.error("screen failed to render", error, info.componentStack);
  }

  private retry = () => this.setState((s) => ({ error: null, tries: s.tries + 1 }));

  render(): ReactNode {
    const { error, tries } = this.state;
    // A new key on Retry mounts the screen afresh.
    if (!error) return <Fragment key={tries}>{this.props.children}</Fragment>;
    return (
      <div className="main">
        <main className="content">
          <div className="banner error stack" role="alert" data-testid="screen-error">
            <strong>{this.props.name ? `The ${this.props.name} screen` : "This screen"} could not be shown.</strong>
            <span>
              {error.message || "An unexpected error."} Your data is safe; the rest of the console keeps working.
            </span>
            <div className="row">
              <button type="button" className="primary" onClick={this.retry}>
                Retry
              </button>
              <button type="button" onClick={() => window.location.reload()}>
                Reload the console
              </button>
            </div>
          </div>
        </main>
      </div>
    );
  }
}
